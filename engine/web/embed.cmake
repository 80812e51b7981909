# Build step: turns the dashboard page into a C++ source (AdminServer::dashboard_html), so the binary serves
# it with no file beside it and no CDN.   cmake -DIN=dashboard.html -DOUT=dashboard_html.cpp -P embed.cmake
file(READ "${IN}" content)
string(FIND "${content}" ")enigma_web\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )enigma_web\"")
endif()
file(WRITE "${OUT}.tmp" "// Generated from engine/web/dashboard.html by engine/web/embed.cmake: edit the page, not this file.
#include \"engine/admin.hpp\"

std::string_view enigma::engine::AdminServer::dashboard_html() noexcept {
  static constexpr char kPage[] = R\"enigma_web(${content})enigma_web\";
  return {kPage, sizeof kPage - 1};
}
")
file(RENAME "${OUT}.tmp" "${OUT}")

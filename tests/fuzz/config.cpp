// Fuzz the config loader: arbitrary bytes as TOML must end in a config or an enigma::Error, nothing else.
#include <cstdint>
#include <string_view>

#include "core/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto doc = enigma::config::Document::parse(text, "fuzz.toml");
    auto root = doc.root();
    if (auto engine = root.optional_table("engine")) (void)enigma::EngineConfig::read(*engine);
    // Exercise every getter kind on whatever keys a [risk] table holds.
    if (auto risk = root.optional_table("risk")) {
      for (const char* key : {"a", "b", "c"}) {
        try { (void)risk->decimal<enigma::Price>(key, std::nullopt); } catch (const enigma::Error&) {}
        try { (void)risk->size_bytes(key, 0); } catch (const enigma::Error&) {}
        try { (void)risk->integer_list(key, std::nullopt, 0, 100, true); } catch (const enigma::Error&) {}
        try { (void)risk->real(key, 0.0, -1.0, 1.0); } catch (const enigma::Error&) {}
        try { (void)risk->string_list(key, std::nullopt); } catch (const enigma::Error&) {}
      }
      for (auto& t : root.table_array("instruments")) {
        try { (void)t.string("symbol", std::nullopt); } catch (const enigma::Error&) {}
      }
      risk->finish();
    }
    root.finish();
  } catch (const enigma::Error&) {
    // The only acceptable failure.
  }
  return 0;
}

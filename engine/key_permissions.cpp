#include "engine/key_permissions.hpp"

#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/logger.hpp"
#include "feed/capture_reader.hpp"

namespace enigma::engine {

oms::KeyPermissions check_key_permissions(const std::string& account_api_url, const oms::KeyPermissionsRequest& request,
                                          const feed::TlsOptions& tls, std::int64_t timeout_ns) {
  if (feed::parse_url(account_api_url).scheme != "https")  // the API key travels in a header
    throw Error("live: [live] account_api_url '" + account_api_url + "' must be https://");
  std::string url = account_api_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const std::string where = url + request.path;
  feed::HttpsOptions ho;
  ho.tls = tls;
  ho.timeout_ns = timeout_ns;
  ho.max_body_bytes = 64u << 10;
  feed::HttpsClient client(ho);
  feed::HttpsResponse res;
  try {
    res = client.get(request.query.empty() ? where : where + "?" + request.query, request.headers);
  } catch (const std::exception& e) {
    throw Error("live: the API key's permissions could not be read (GET " + where + "): " + e.what());
  }
  if (res.status != 200) {
    throw Error("live: the API key's permissions could not be read: GET " + where + " answered HTTP " +
                std::to_string(res.status) + ": " + feed::quote_input(res.body, 200) + " (" + std::string(request.hint) + ")");
  }
  oms::KeyPermissions k;
  try {
    k = request.read(res.body);
  } catch (const Error& e) {
    throw Error("live: GET " + where + ": " + e.what());
  }
  if (Logger* lg = Logger::global()) lg->write_text(LogLevel::info, "live", "api_key_permissions " + k.log_fields);
  if (!k.ip_restricted)
    ENIGMA_LOG_WARN("live", "api_key_not_ip_restricted console={} then=restrict_it_to_this_host", LogQuoted{request.console});
  if (!k.moves_funds_out.empty()) {
    ENIGMA_LOG_ERROR("live", "api_key_refused permissions={} then=refuse_to_start", LogQuoted{k.moves_funds_out});
    throw Error("live: refusing to trade with an API key that can move funds out of the account (" + k.moves_funds_out +
                ", from GET " + where + "); turn withdrawals and transfers off for this key in " + std::string(request.console) +
                ", or use a trade-only key. No setting overrides this check");
  }
  if (!k.cannot_trade.empty()) throw Error("live: " + k.cannot_trade + " (GET " + where + ")");
  return k;
}

}  // namespace enigma::engine

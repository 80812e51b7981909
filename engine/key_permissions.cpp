#include "engine/key_permissions.hpp"

#include <simdjson.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "feed/capture_reader.hpp"
#include "core/logger.hpp"
#include "oms/venues/binance_futures.hpp"
#include "oms/venues/bybit_linear.hpp"
#include "oms/venues/bybit_linear_user.hpp"
#include "oms/venues/okx_swap.hpp"
#include "oms/venues/okx_swap_user.hpp"
#include "oms/venues/kucoin_futures.hpp"

namespace enigma::engine {

namespace {

constexpr std::string_view kPath = "/sapi/v1/account/apiRestrictions";

// GET <account_api_url><path>[?query] with `headers` (cold path, once at start-up): the 200 body, else an
// Error naming the URL and the venue's answer (`hint` says what the venue needs).
std::string account_get(const std::string& account_api_url, std::string_view path, const std::string& query,
                        const std::vector<std::pair<std::string, std::string>>& headers, const feed::TlsOptions& tls,
                        std::int64_t timeout_ns, std::string_view hint, std::string& where) {
  if (feed::parse_url(account_api_url).scheme != "https")  // the API key travels in a header
    throw Error("live: [live] account_api_url '" + account_api_url + "' must be https://");
  std::string url = account_api_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  where = url + std::string(path);
  feed::HttpsOptions ho;
  ho.tls = tls;
  ho.timeout_ns = timeout_ns;
  ho.max_body_bytes = 64u << 10;
  feed::HttpsClient client(ho);
  feed::HttpsResponse res;
  try {
    res = client.get(query.empty() ? where : where + "?" + query, headers);
  } catch (const std::exception& e) {
    throw Error("live: the API key's permissions could not be read (GET " + where + "): " + e.what());
  }
  if (res.status != 200) {
    throw Error("live: the API key's permissions could not be read: GET " + where + " answered HTTP " +
                std::to_string(res.status) + ": " + feed::quote_input(res.body, 200) + " (" + std::string(hint) + ")");
  }
  return std::move(res.body);
}

}  // namespace

BinanceKeyRestrictions parse_binance_key_restrictions(std::string_view body) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string text(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(text).get(doc)) throw Error("apiRestrictions answer is not JSON: " + feed::quote_input(body, 200));
  const auto flag = [&](const char* name) {
    bool v = false;
    if (doc[name].get_bool().get(v)) throw Error(std::string("apiRestrictions answer has no boolean '") + name + "': " + feed::quote_input(body, 200));
    doc.rewind();  // fields are looked up in any order
    return v;
  };
  BinanceKeyRestrictions r;
  r.ip_restrict = flag("ipRestrict");
  r.enable_reading = flag("enableReading");
  r.enable_futures = flag("enableFutures");
  r.enable_withdrawals = flag("enableWithdrawals");
  r.enable_internal_transfer = flag("enableInternalTransfer");
  r.permits_universal_transfer = flag("permitsUniversalTransfer");
  return r;
}

BinanceKeyRestrictions check_binance_key_permissions(const std::string& account_api_url, const std::string& api_key,
                                                     const oms::binance_futures::Encoder& signer,
                                                     std::int64_t recv_window_ms, const feed::TlsOptions& tls,
                                                     std::int64_t timeout_ns) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string params = "recvWindow=" + std::to_string(recv_window_ms) +
                       "&timestamp=" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  char sig[oms::kSha256HexSize];
  signer.sign(params, sig);
  params.append("&signature=").append(sig, sizeof sig);
  std::string where;
  const std::string body = account_get(account_api_url, kPath, params, {{"X-MBX-APIKEY", api_key}}, tls, timeout_ns,
                                       "the key needs \"Enable Reading\"; [live] account_api_url is Binance's account host", where);
  BinanceKeyRestrictions r;
  try {
    r = parse_binance_key_restrictions(body);
  } catch (const Error& e) {
    throw Error("live: GET " + where + ": " + e.what());
  }
  ENIGMA_LOG_INFO("live", "api_key_permissions ip_restrict={} reading={} futures={} withdrawals={} internal_transfer={} universal_transfer={}",
                  r.ip_restrict, r.enable_reading, r.enable_futures, r.enable_withdrawals, r.enable_internal_transfer,
                  r.permits_universal_transfer);
  if (!r.ip_restrict)
    ENIGMA_LOG_WARN("live", "api_key_not_ip_restricted then=restrict_it_to_this_host_in_binance_api_management");
  if (r.can_move_funds_out()) {
    std::string what;
    if (r.enable_withdrawals) what += "enableWithdrawals";
    if (r.enable_internal_transfer) what += std::string(what.empty() ? "" : ", ") + "enableInternalTransfer";
    if (r.permits_universal_transfer) what += std::string(what.empty() ? "" : ", ") + "permitsUniversalTransfer";
    ENIGMA_LOG_ERROR("live", "api_key_refused permissions={} then=refuse_to_start", LogQuoted{what});
    throw Error("live: refusing to trade with an API key that can move funds out of the account (" + what +
                " is on, per GET " + where + "); turn withdrawals and transfers off for this key in Binance API "
                "Management, or use a trade-only key. No setting overrides this check");
  }
  return r;
}

oms::kucoin_futures::ApiKeyInfo check_kucoin_key_permissions(const std::string& account_api_url, const oms::kucoin_futures::Encoder& signer,
                                           const feed::TlsOptions& tls, std::int64_t timeout_ns) {
  constexpr std::string_view path = "/api/v1/user/api-key";
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string where;
  const std::string body =
      account_get(account_api_url, path, "",
                  signer.signed_headers("GET", path, "", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()), tls,
                  timeout_ns, "[live] account_api_url is KuCoin's account host", where);
  oms::kucoin_futures::ApiKeyInfo k;
  try {
    k = oms::kucoin_futures::parse_api_key_info(body);
  } catch (const Error& e) {
    throw Error("live: GET " + where + ": " + e.what());
  }
  ENIGMA_LOG_INFO("live", "api_key_permissions permissions={} ip_whitelist={}", LogQuoted{k.permissions}, LogQuoted{k.ip_whitelist});
  if (k.ip_whitelist.empty()) ENIGMA_LOG_WARN("live", "api_key_not_ip_restricted then=restrict_it_to_this_host_in_kucoin_api_management");
  if (k.can_move_funds_out()) {
    const std::string what = std::string(k.can_withdraw ? "withdraw" : "") + (k.can_withdraw && k.can_transfer ? ", " : "") +
                             (k.can_transfer ? "transfer out" : "");
    ENIGMA_LOG_ERROR("live", "api_key_refused permissions={} then=refuse_to_start", LogQuoted{what});
    throw Error("live: refusing to trade with an API key that can move funds out of the account (" + what +
                ", per its permissions \"" + k.permissions + "\" from GET " + where + "); remove them from this key in KuCoin API Management, or use a "
                "trade-only key. No setting overrides this check");
  }
  return k;
}

void check_bybit_key_permissions(const std::string& account_api_url, const oms::bybit_linear::Encoder& signer,
                                 const feed::TlsOptions& tls, std::int64_t timeout_ns) {
  constexpr std::string_view path = "/v5/user/query-api";
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string where;
  const std::string body =
      account_get(account_api_url, path, "", signer.signed_headers("", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()),
                  tls, timeout_ns, "[live] account_api_url is Bybit's API host", where);
  oms::bybit_linear::ApiKeyInfo k;
  try {
    k = oms::bybit_linear::parse_api_key_info(body);
  } catch (const Error& e) {
    throw Error("live: GET " + where + ": " + e.what());
  }
  ENIGMA_LOG_INFO("live", "api_key_permissions permissions={} read_only={} ips={}", LogQuoted{k.permissions}, k.read_only,
                  LogQuoted{k.ip_whitelist});
  if (k.ip_whitelist.empty()) ENIGMA_LOG_WARN("live", "api_key_not_ip_restricted then=restrict_it_to_this_host_in_bybit_api_management");
  if (k.can_move_funds_out()) {
    const std::string what = std::string(k.can_withdraw ? "withdraw" : "") + (k.can_withdraw && k.can_transfer ? ", " : "") +
                             (k.can_transfer ? "transfer out" : "");
    ENIGMA_LOG_ERROR("live", "api_key_refused permissions={} then=refuse_to_start", LogQuoted{what});
    throw Error("live: refusing to trade with an API key that can move funds out of the account (" + what + ", per its permissions \"" +
                k.permissions + "\" from GET " + where + "); remove them from this key in Bybit API Management, or use a "
                "trade-only key. No setting overrides this check");
  }
  if (k.read_only) throw Error("live: the API key is read-only (GET " + where + "): it cannot place orders; use a key with Contract trade permission");
}

void check_okx_key_permissions(const std::string& account_api_url, const oms::okx_swap::Encoder& signer,
                               const feed::TlsOptions& tls, std::int64_t timeout_ns) {
  constexpr std::string_view path = "/api/v5/account/config";
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string where;
  const std::string body =
      account_get(account_api_url, path, "",
                  signer.signed_headers("GET", path, "", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()), tls,
                  timeout_ns, "[live] account_api_url is OKX's API host", where);
  oms::okx_swap::ApiKeyInfo k;
  try {
    k = oms::okx_swap::parse_account_config(body);
  } catch (const Error& e) {
    throw Error("live: GET " + where + ": " + e.what());
  }
  ENIGMA_LOG_INFO("live", "api_key_permissions permissions={} ips={} pos_mode={}", LogQuoted{k.permissions},
                  LogQuoted{k.ip_whitelist}, LogQuoted{k.pos_mode});
  if (k.ip_whitelist.empty()) ENIGMA_LOG_WARN("live", "api_key_not_ip_restricted then=restrict_it_to_this_host_in_okx_api_management");
  if (k.can_move_funds_out()) {
    ENIGMA_LOG_ERROR("live", "api_key_refused permissions={} then=refuse_to_start", LogQuoted{k.permissions});
    throw Error("live: refusing to trade with an API key that can move funds out of the account (withdraw, per its permissions \"" +
                k.permissions + "\" from GET " + where + "); remove Withdraw from this key in OKX API management, or use a "
                "trade-only key. No setting overrides this check");
  }
  if (!k.can_trade)
    throw Error("live: the API key cannot trade (permissions \"" + k.permissions + "\" from GET " + where + "); use a key with the Trade permission");
  if (!k.net_mode())
    throw Error("live: the OKX account is in position mode \"" + k.pos_mode + "\" (GET " + where +
                "): enigma sends orders without posSide, which needs net mode (one-way); switch it in OKX's settings or with "
                "POST /api/v5/account/set-position-mode while no position or order is open");
}

}  // namespace enigma::engine

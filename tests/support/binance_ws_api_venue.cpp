#include "tests/support/binance_ws_api_venue.hpp"

#include <simdjson.h>

#include "oms/signing.hpp"

namespace enigma::testing {
namespace {

std::string answer(const std::string& id, int status, const std::string& body) {
  std::string out = "{\"id\":" + id + ",\"status\":" + std::to_string(status) + (status < 300 ? ",\"result\":" : ",\"error\":") + body;
  if (status < 300)
    out += R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400,"count":1}])";
  return out + "}";
}

std::string error(int code, std::string_view msg) {
  return "{\"code\":" + std::to_string(code) + ",\"msg\":\"" + std::string(msg) + "\"}";
}

}  // namespace

std::string WsApiVenueSession::handle(std::string_view request) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string text(request);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  std::string id = "null", method;
  std::map<std::string, std::string> params;
  bool ok = !parser.iterate(text).get(doc) && !doc.get_object().get(root);
  // Fields in document order (id, method, params, as every client writes them; the venue accepts any).
  for (auto f : root) {
    if (!ok) break;
    std::string_view key;
    if (f.unescaped_key().get(key)) {
      ok = false;
      break;
    }
    simdjson::ondemand::value v;
    if (f.value().get(v)) {
      ok = false;
      break;
    }
    if (key == "id") {
      id = std::string(v.raw_json_token());
      while (!id.empty() && (id.back() == ' ' || id.back() == '\n')) id.pop_back();
    } else if (key == "method") {
      std::string_view m;
      ok = !v.get_string().get(m);
      method = std::string(m);
    } else if (key == "params") {
      simdjson::ondemand::object po;
      if (v.get_object().get(po)) {
        ok = false;
        break;
      }
      for (auto pf : po) {
        std::string_view k, s;
        simdjson::ondemand::value pv;
        if (pf.unescaped_key().get(k) || pf.value().get(pv)) {
          ok = false;
          break;
        }
        if (pv.type() == simdjson::ondemand::json_type::string) {
          ok = ok && !pv.get_string().get(s);
        } else {
          s = pv.raw_json_token();
          while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
        }
        params[std::string(k)] = std::string(s);
      }
    }
  }
  if (!ok || method.empty()) return answer(id, 400, error(-1102, "Malformed request."));

  // The signature payload: every param but `signature`, sorted by name (std::map order), `k=v&k=v`.
  std::string payload;
  for (const auto& [k, v] : params) {
    if (k == "signature") continue;
    payload += (payload.empty() ? "" : "&") + k + "=" + v;
  }
  const auto sig = params.find("signature");
  const auto bad_signature = [&] {
    ++bad_signatures;
    return answer(id, 400, error(-1022, "Signature for this request is not valid."));
  };

  if (method == "session.logon") {
    if (sig == params.end() || params["apiKey"] != keys_.ed25519_api_key ||
        !oms::ed25519_verify(keys_.ed25519_public_key, payload, sig->second))
      return bad_signature();
    logged_on_ = true;
    ++logons;
    return answer(id, 200, R"({"apiKey":")" + params["apiKey"] + R"(","authorizedSince":1723075200000,"connectedSince":1723075199000,)"
                               R"("returnRateLimits":false,"serverTime":1723075200001})");
  }
  const char* verb = method == "order.place"    ? "POST"
                     : method == "order.cancel" ? "DELETE"
                     : method == "order.status" ? "GET"
                     : method == "order.modify" ? "PUT"
                                                : nullptr;
  if (verb == nullptr) return answer(id, 400, error(-1102, "Unknown method."));  // e.g. openOrders.cancelAll: not in ws-fapi
  const bool session = logged_on_ && sig == params.end() && params.count("apiKey") == 0;
  if (!session) {
    if (sig == params.end() || params["apiKey"] != keys_.hmac_api_key) return bad_signature();
    const oms::HmacSha256 hmac(keys_.hmac_secret);
    unsigned char mac[oms::kSha256Size];
    hmac.sign(payload, mac);
    char hex[oms::kSha256HexSize];
    oms::hex_encode(mac, sizeof mac, hex);
    if (sig->second != std::string_view(hex, sizeof hex)) return bad_signature();
  }
  if (params["timestamp"].empty()) return answer(id, 400, error(-1102, "Mandatory parameter 'timestamp' was not sent."));
  ++requests;
  params.erase("signature");
  params.erase("apiKey");
  const auto [status, body] = orders_(verb, params, payload);
  return answer(id, status, body);
}

}  // namespace enigma::testing

// The API key's own permissions, read from the venue at start-up of `live` before any order (issue 17
// item 4; the plan's hard limit "no withdrawal API permissions"). A key that can move funds out of the
// account — withdraw, or transfer to another account — is refused; no configuration turns this off.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "feed/https_client.hpp"
#include "oms/venues/kucoin_futures_user.hpp"

namespace enigma::oms::binance_futures {
class Encoder;
}
namespace enigma::oms::kucoin_futures {
class Encoder;
}
namespace enigma::oms::okx_swap {
class Encoder;
}
namespace enigma::oms::bybit_linear {
class Encoder;
struct ApiKeyInfo;
}

namespace enigma::engine {

// Binance GET /sapi/v1/account/apiRestrictions (USER_DATA, signed; on the account host api.binance.com).
struct BinanceKeyRestrictions {
  bool ip_restrict{false};
  bool enable_reading{false};
  bool enable_futures{false};
  bool enable_withdrawals{false};
  bool enable_internal_transfer{false};
  bool permits_universal_transfer{false};
  [[nodiscard]] bool can_move_funds_out() const noexcept {
    return enable_withdrawals || enable_internal_transfer || permits_universal_transfer;
  }
};

// Parses the endpoint's answer. Throws enigma::Error naming the field that is missing or not a boolean.
[[nodiscard]] BinanceKeyRestrictions parse_binance_key_restrictions(std::string_view body);

// Signs and sends the request to `<account_api_url>/sapi/v1/account/apiRestrictions` with `signer` (the
// key's HMAC secret), logs what the key may do (IP restriction included) and returns it. Throws
// enigma::Error (exit 3) when no answer came, when the venue refused the request (its status and message),
// and when the key can withdraw or transfer out: the message names each permission and where to turn it off.
BinanceKeyRestrictions check_binance_key_permissions(const std::string& account_api_url, const std::string& api_key,
                                                     const oms::binance_futures::Encoder& signer,
                                                     std::int64_t recv_window_ms, const feed::TlsOptions& tls,
                                                     std::int64_t timeout_ns);

// As check_binance_key_permissions, for a KuCoin key: GET <account_api_url>/api/v1/user/api-key signed by
// `signer` (oms::kucoin_futures::parse_api_key_info reads it); refuses (enigma::Error, exit 3) a key that can
// withdraw or transfer out (Withdrawal, Transfer, FlexTransfers, InnerTransfer).
oms::kucoin_futures::ApiKeyInfo check_kucoin_key_permissions(const std::string& account_api_url, const oms::kucoin_futures::Encoder& signer,
                                           const feed::TlsOptions& tls, std::int64_t timeout_ns);

// As check_binance_key_permissions, for a Bybit key: GET <account_api_url>/v5/user/query-api signed by `signer`
// (oms::bybit_linear::parse_api_key_info reads it); refuses (enigma::Error, exit 3) a key that can withdraw or
// transfer out (Withdraw, AccountTransfer, SubMemberTransfer) and a read-only key (it cannot trade).
void check_bybit_key_permissions(const std::string& account_api_url, const oms::bybit_linear::Encoder& signer,
                                 const feed::TlsOptions& tls, std::int64_t timeout_ns);

// As check_binance_key_permissions, for an OKX key: GET <account_api_url>/api/v5/account/config signed by
// `signer` (oms::okx_swap::parse_account_config reads it); refuses (enigma::Error, exit 3) a key with the
// withdraw permission, a key without trade, and an account in long/short position mode (the orders go without
// posSide, which only net mode takes).
void check_okx_key_permissions(const std::string& account_api_url, const oms::okx_swap::Encoder& signer,
                               const feed::TlsOptions& tls, std::int64_t timeout_ns);

}  // namespace enigma::engine

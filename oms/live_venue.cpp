#include "oms/live_venue.hpp"

#include "core/config.hpp"

namespace enigma::oms {

LiveVenue::LiveVenue(const LiveAccount& account, std::string rest_host, bool passphrase)
    : account_(account), rest_host_(std::move(rest_host)) {
  const config::Secret key = config::load_secret(account.api_key_env, account.api_key_file);
  const config::Secret secret = config::load_secret(account.api_secret_env, account.api_secret_file);
  api_key_ = std::string(key.reveal());
  key_origin_ = key.origin();
  secret_ = Secret(secret.reveal());
  if (passphrase) passphrase_ = Secret(config::load_secret(account.api_passphrase_env, account.api_passphrase_file).reveal());
}

}  // namespace enigma::oms

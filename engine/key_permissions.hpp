// The API key's own permissions, read from the venue at start-up of `live` before any order (issue 17
// item 4; the plan's hard limit "no withdrawal API permissions"). A key that can move funds out of the
// account — withdraw, or transfer to another account — is refused; no configuration turns this off. What
// each venue asks and how its answer reads is the venue's (oms::<venue>::key_permissions_request).
#pragma once

#include <cstdint>
#include <string>

#include "feed/https_client.hpp"
#include "oms/venue_queries.hpp"

namespace enigma::engine {

// Sends `request` to <account_api_url><request.path> (https only: the key travels in a header), logs what the
// key may do (api_key_permissions ..., and a warning when it is not IP-restricted) and returns it. Throws
// enigma::Error (exit 3) when no answer came, when the venue refused the request (its status and message),
// when the key can withdraw or transfer out (the message names each permission and where to turn it off), and
// when the key or account cannot take our orders.
oms::KeyPermissions check_key_permissions(const std::string& account_api_url, const oms::KeyPermissionsRequest& request,
                                          const feed::TlsOptions& tls, std::int64_t timeout_ns);

}  // namespace enigma::engine

// Internal: TLS set-up shared by https_client.cpp and ws_client.cpp (the only files that include Beast/Asio
// SSL; keep it that way, they compile slowly).
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <string>

#include "core/error.hpp"
#include "feed/https_client.hpp"

namespace enigma::feed::detail {

// Client context: TLS 1.2+, the system trust store plus `opt.ca_file`, peer verification per `opt`.
inline boost::asio::ssl::context make_client_tls_context(const TlsOptions& opt) {
  namespace ssl = boost::asio::ssl;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);  // a box without a system store still works with an explicit ca_file
  if (!opt.ca_file.empty()) {
    ctx.load_verify_file(opt.ca_file, ec);
    if (ec) throw Error("TLS: cannot load CA file '" + opt.ca_file + "': " + ec.message());
  }
  ctx.set_verify_mode(opt.verify_peer ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

// Per-connection: SNI (not for IP literals, RFC 6066 s3) and host-name verification against the certificate's
// SAN/CN (IP SANs for IP literals).
template <class SslStream>
void prepare_client_tls(SslStream& s, const std::string& host, const TlsOptions& opt) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  const bool is_ip = !ec;
  if (!is_ip && !SSL_set_tlsext_host_name(s.native_handle(), host.c_str())) {
    throw Error("TLS: cannot set SNI host name '" + host + "'");
  }
  if (opt.verify_peer) s.set_verify_callback(boost::asio::ssl::host_name_verification(host));
}

// Human-readable TLS failure: OpenSSL's reason plus the certificate verification result when there is one,
// e.g. "certificate verify failed (self-signed certificate)".
template <class SslStream>
std::string describe_tls_error(SslStream& s, const boost::system::error_code& ec) {
  std::string m = ec.message();
  const long vr = SSL_get_verify_result(s.native_handle());
  if (vr != X509_V_OK) m += std::string(" (") + X509_verify_cert_error_string(vr) + ")";
  return m;
}

}  // namespace enigma::feed::detail

// Asio's and Beast's own non-template code, compiled once for the whole project. Header-only, every unit that
// includes them compiles all of it again (sockets, TLS streams, the HTTP parser, the WebSocket codec): about
// a fifth of each Beast unit's compile time, in every build. Targets that use Asio or Beast link enigma::net,
// which defines BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION for them.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

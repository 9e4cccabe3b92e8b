// The one translation unit that compiles the bodies of Asio, Asio-SSL and Beast
// (BOOST_*_SEPARATE_COMPILATION): every other file only includes declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

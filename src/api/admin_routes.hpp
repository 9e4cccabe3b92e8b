#pragma once

#include <boost/asio/awaitable.hpp>
#include <wagate/http/router.hpp>

#include "api/handlers.hpp"

namespace wagate::api {

using AdminHandler = boost::asio::awaitable<http::Response> (*)(HandlerContext&, http::Request&,
                                                                  const http::PathParams&);

/// Wraps an admin handler with the admin-token check (401 without it).
http::Handler admin_only(HandlerContext& ctx, AdminHandler handler);

}  // namespace wagate::api

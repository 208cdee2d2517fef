#include "api/http/router.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace backline::http {

namespace {

[[noreturn]] void fail(std::string_view what, std::string_view path_template) {
  std::fprintf(stderr, "backline::http::router: %.*s: '%.*s'\n", int(what.size()), what.data(),
               int(path_template.size()), path_template.data());
  std::abort();
}

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b" -> {"a","b"}; "/" -> {""}. Returns false on an empty inner segment ("//").
bool split_path(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    auto segment = path.substr(0, slash);
    if (segment.empty() && slash != std::string_view::npos) return false;
    out.push_back(segment);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when a's literal/parameter pattern is more specific than b's (first difference decides).
bool more_specific(const route& a, const route& b) {
  for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    bool la = !is_param(a.segments[i]), lb = !is_param(b.segments[i]);
    if (la != lb) return la;
  }
  return false;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      char decoded = char(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool parse_query(std::string_view query, params& out) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!name || !value) return false;
    out.add(std::move(*name), std::move(*value));
  }
  return true;
}

method parse_method(std::string_view name) {
  if (name == "GET") return method::get;
  if (name == "POST") return method::post;
  if (name == "PUT") return method::put;
  if (name == "PATCH") return method::patch;
  if (name == "DELETE") return method::del;
  if (name == "HEAD") return method::head;
  if (name == "OPTIONS") return method::options;
  return method::other;
}

void router::insert(std::unique_ptr<route> r) {
  if (frozen_) fail("routes are added before the server starts", r->path_template);
  std::vector<std::string_view> parts;
  if (!split_path(r->path_template, parts))
    fail("a template is an absolute path", r->path_template);
  std::set<std::string_view> names;
  for (auto part : parts) {
    if (part.find_first_of("{}") != std::string_view::npos && !is_param(part)) {
      fail("a parameter is a whole segment {name}", r->path_template);
    }
    if (is_param(part) && !names.insert(part).second) {
      fail("a parameter name repeats", r->path_template);
    }
    r->segments.emplace_back(part);
  }
  for (const auto& other : routes_) {
    if (other->verb == r->verb && other->path_template == r->path_template) {
      fail("duplicate route", r->path_template);
    }
  }
  r->index = routes_.size();
  routes_.push_back(std::move(r));
}

void router::add(method verb, std::string_view path_template, handler h, route_options o) {
  auto r = std::make_unique<route>();
  r->verb = verb;
  r->path_template = path_template;
  r->on_request = std::move(h);
  r->options = o;
  insert(std::move(r));
}

void router::websocket(std::string_view path_template, ws_upgrade_handler h, route_options o) {
  auto r = std::make_unique<route>();
  r->verb = method::get;
  r->path_template = path_template;
  r->on_upgrade = std::move(h);
  r->options = o;
  r->options.idempotency = false;
  insert(std::move(r));
}

router::match_result router::match(method verb, std::string_view path) const {
  match_result result;
  std::vector<std::string_view> parts;
  if (!split_path(path, parts)) return result;
  const route* best = nullptr;
  std::set<method> allowed;
  for (const auto& r : routes_) {
    if (r->segments.size() != parts.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      ok = is_param(r->segments[i]) || r->segments[i] == parts[i];
    }
    if (!ok) continue;
    allowed.insert(r->verb);
    if (r->verb == verb && (best == nullptr || more_specific(*r, *best))) best = r.get();
  }
  if (best == nullptr) {
    if (allowed.empty()) return result;
    result.result = outcome::method_not_allowed;
    for (auto m : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += method_name(m);
    }
    return result;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& segment = best->segments[i];
    if (!is_param(segment)) continue;
    auto decoded = percent_decode(parts[i], false);
    if (!decoded) {
      result.result = outcome::bad_path;
      return result;
    }
    result.path_params.add(segment.substr(1, segment.size() - 2), std::move(*decoded));
  }
  result.result = outcome::found;
  result.matched = best;
  return result;
}

}  // namespace backline::http

#pragma once
// Private to projections/: a tiny writer of canonical JSON text, the bytes nlohmann::json's
// dump() gives for the same object (compact, keys in the order the caller writes them, which
// must be sorted; strings escaped as dump() escapes them). The records are written with it
// instead of building nlohmann::json objects (a std::map per object, an allocation per field),
// which was most of the projector's CPU. tests/projections/voice_call_test.cc proves the bytes
// equal dump(parse(bytes)).
//
// Invalid UTF-8 in a string is written as U+FFFD per bad byte (nlohmann's dump would throw), so
// every record parses.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace backline::projections::json_text {

// Writes straight into `out`'s buffer: every piece is a bounds check and a memcpy, inlined
// (std::string::append per piece was most of the time of a record). `out` holds the text, after
// what it held before, once the writer is destroyed; do not touch `out` while it lives.
class writer {
 public:
  explicit writer(std::string& out) : out_(out), at_(nullptr), end_(nullptr) {
    grow(out.size(), 512);
  }
  ~writer() { out_.resize(static_cast<std::size_t>(at_ - out_.data())); }
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  void begin_object() {
    room(2);
    comma();
    *at_++ = '{';
    first_ = true;
  }
  void end_object() {
    room(1);
    *at_++ = '}';
    first_ = false;
  }
  void begin_array() {
    room(2);
    comma();
    *at_++ = '[';
    first_ = true;
  }
  void end_array() {
    room(1);
    *at_++ = ']';
    first_ = false;
  }
  // The key of the next value. REQUIRES: keys of one object written in sorted order.
  void key(std::string_view k) {
    room(k.size() + 4);
    comma();
    *at_++ = '"';
    put(k);  // keys are identifiers: nothing to escape
    *at_++ = '"';
    *at_++ = ':';
    first_ = true;  // the value follows without a comma
  }
  // A key that is data (a custom attribute's name): escaped like a string.
  void data_key(std::string_view k) {
    string(k);
    room(1);
    *at_++ = ':';
    first_ = true;
  }
  void string(std::string_view s) {
    // Worst case: every byte becomes \u00XX, or U+FFFD (3 bytes) when it is not UTF-8.
    room(s.size() * 6 + 3);
    comma();
    escaped(s);
  }
  void number(std::int64_t v) {
    room(21);
    comma();
    char buf[20];
    char* const end = buf + sizeof buf;
    char* p = end;
    std::uint64_t u = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    do {
      *--p = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) *at_++ = '-';
    put({p, static_cast<std::size_t>(end - p)});
  }
  void boolean(bool v) {
    room(6);
    comma();
    put(v ? std::string_view("true") : std::string_view("false"));
  }
  void null() {
    room(5);
    comma();
    put("null");
  }

  // Shorthands: one field.
  void field(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void field(std::string_view k, const char* v) { field(k, std::string_view(v)); }
  void field(std::string_view k, const std::string& v) { field(k, std::string_view(v)); }
  void field(std::string_view k, std::int64_t v) {
    key(k);
    number(v);
  }
  void field(std::string_view k, std::uint32_t v) { field(k, static_cast<std::int64_t>(v)); }
  void field(std::string_view k, bool v) {
    key(k);
    boolean(v);
  }
  void null_field(std::string_view k) {
    key(k);
    null();
  }

 private:
  // Each writing function first makes room for everything it may write (a comma included).
  void room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - at_) < n) [[unlikely]] {
      grow(static_cast<std::size_t>(at_ - out_.data()), n);
    }
  }
  void grow(std::size_t used, std::size_t n);
  void put(std::string_view s) {
    std::memcpy(at_, s.data(), s.size());
    at_ += s.size();
  }
  void comma() {
    if (!first_) *at_++ = ',';
    first_ = false;
  }
  void escaped(std::string_view s);

  std::string& out_;
  char* at_;   // the next byte to write, in out_'s buffer
  char* end_;  // the end of out_'s buffer (out_.size() while the writer lives)
  bool first_ = true;
};

}  // namespace backline::projections::json_text

#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ccstream::domain {

// Keyed pseudonymisation of customer ids: HMAC-SHA256 (OpenSSL) under a key from configuration,
// rendered as 64 lower-case hex characters. Holds the two SHA-256 states of HMAC (after the
// key's inner and outer pad blocks) computed once from the key; each call copies them, so a call
// costs two hash finishes and no key set-up. The states are OpenSSL's plain SHA256_CTX structs
// (its low-level SHA-256, without the EVP provider layer: a copy is a struct copy and a hash
// allocates nothing); they are kept here as opaque bytes so that includers do not see OpenSSL.
// Immutable after construction and thread-safe.
class Pseudonymizer {
 public:
  explicit Pseudonymizer(std::string_view key);
  std::string Pseudonymize(std::string_view raw_id) const;

 private:
  // Room for one SHA256_CTX (112 bytes in OpenSSL 1.1 and 3; checked in the .cc).
  static constexpr size_t kStateBytes = 128;
  alignas(8) unsigned char inner_[kStateBytes];  // SHA-256 after the block key ^ ipad
  alignas(8) unsigned char outer_[kStateBytes];  // SHA-256 after the block key ^ opad
};

// Lower-case hex of SHA-256 over `parts` joined by a separator byte, cut to `hex_chars`
// characters (at most 64). Used for deterministic case, alert and timer ids.
std::string HashId(std::initializer_list<std::string_view> parts, size_t hex_chars = 32);

}  // namespace ccstream::domain

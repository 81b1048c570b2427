#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace ccstream::domain {

// Keyed pseudonymisation of customer ids: HMAC-SHA256 (OpenSSL) under a key from configuration,
// rendered as 64 lower-case hex characters. Holds the two SHA-256 states of HMAC (after the
// key's inner and outer pad blocks) computed once from the key; each call copies them, so a call
// costs two hash finishes and no key set-up. Immutable after construction and thread-safe.
// Copies share the states.
class Pseudonymizer {
 public:
  explicit Pseudonymizer(std::string_view key);
  std::string Pseudonymize(std::string_view raw_id) const;

 private:
  std::shared_ptr<const evp_md_ctx_st> inner_;  // SHA-256 over key ^ ipad; never null
  std::shared_ptr<const evp_md_ctx_st> outer_;  // SHA-256 over key ^ opad; never null
};

// Lower-case hex of SHA-256 over `parts` joined by a separator byte, cut to `hex_chars`
// characters (at most 64). Used for deterministic case, alert and timer ids.
std::string HashId(std::initializer_list<std::string_view> parts, size_t hex_chars = 32);

}  // namespace ccstream::domain

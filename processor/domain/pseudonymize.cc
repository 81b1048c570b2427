// SHA-256 through OpenSSL's low-level functions, deprecated (not removed) in OpenSSL 3 in favour
// of EVP, whose per-call provider dispatch and context copies cost several times the hashing of
// an id. Same digests (the known-answer tests pin them).
#define OPENSSL_SUPPRESS_DEPRECATED

#include "processor/domain/pseudonymize.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ccstream::domain {
namespace {

SHA256_CTX LoadState(const unsigned char* bytes) {
  SHA256_CTX ctx;
  std::memcpy(&ctx, bytes, sizeof(ctx));
  return ctx;
}

std::string ToHex(const unsigned char* bytes, size_t n, size_t hex_chars) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char hex[2 * SHA256_DIGEST_LENGTH];
  n = std::min(n, size_t{SHA256_DIGEST_LENGTH});
  for (size_t i = 0; i < n; ++i) {
    hex[2 * i] = kDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return std::string(hex, std::min(2 * n, hex_chars));
}

}  // namespace

Pseudonymizer::Pseudonymizer(std::string_view key) {
  static_assert(sizeof(SHA256_CTX) <= kStateBytes && alignof(SHA256_CTX) <= 8,
                "the state buffers must hold a SHA256_CTX");
  // HMAC (RFC 2104) over SHA-256: a key longer than the 64-byte block is hashed first; the key
  // is zero-padded to the block and XORed with the inner and outer pads.
  constexpr size_t kBlock = 64;
  unsigned char block[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
  } else {
    std::copy(key.begin(), key.end(), block);
  }
  auto pad_state = [&block](unsigned char pad, unsigned char* state) {
    unsigned char padded[kBlock];
    for (size_t i = 0; i < kBlock; ++i) padded[i] = block[i] ^ pad;
    SHA256_CTX ctx;
    if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, padded, kBlock) != 1) {
      // Only on a broken OpenSSL installation: fail loudly rather than pseudonymise badly.
      std::abort();
    }
    std::memcpy(state, &ctx, sizeof(ctx));
  };
  pad_state(0x36, inner_);
  pad_state(0x5c, outer_);
}

std::string Pseudonymizer::Pseudonymize(std::string_view raw_id) const {
  unsigned char inner[SHA256_DIGEST_LENGTH];
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = LoadState(inner_);
  if (SHA256_Update(&ctx, raw_id.data(), raw_id.size()) != 1 || SHA256_Final(inner, &ctx) != 1) {
    std::abort();
  }
  ctx = LoadState(outer_);
  if (SHA256_Update(&ctx, inner, sizeof(inner)) != 1 || SHA256_Final(digest, &ctx) != 1) {
    std::abort();
  }
  return ToHex(digest, sizeof(digest), 64);
}

std::string HashId(std::initializer_list<std::string_view> parts, size_t hex_chars) {
  std::string joined;
  bool first = true;
  for (std::string_view part : parts) {
    if (!first) joined.push_back('\x1f');
    first = false;
    joined.append(part);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, joined.data(), joined.size()) != 1 ||
      SHA256_Final(digest, &ctx) != 1) {
    std::abort();
  }
  return ToHex(digest, sizeof(digest), hex_chars);
}

}  // namespace ccstream::domain

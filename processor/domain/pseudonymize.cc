#include "processor/domain/pseudonymize.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

namespace ccstream::domain {
namespace {

std::string ToHex(const unsigned char* bytes, size_t n, size_t hex_chars) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  out.resize(std::min(out.size(), hex_chars));
  return out;
}

}  // namespace

Pseudonymizer::Pseudonymizer(std::string_view key) {
  // HMAC (RFC 2104) over SHA-256: a key longer than the 64-byte block is hashed first; the key
  // is zero-padded to the block and XORed with the inner and outer pads.
  constexpr size_t kBlock = 64;
  unsigned char block[kBlock] = {};
  if (key.size() > kBlock) {
    unsigned int len = 0;
    if (EVP_Digest(key.data(), key.size(), block, &len, EVP_sha256(), nullptr) != 1) std::abort();
  } else {
    std::copy(key.begin(), key.end(), block);
  }
  auto pad_state = [&block](unsigned char pad) {
    unsigned char padded[kBlock];
    for (size_t i = 0; i < kBlock; ++i) padded[i] = block[i] ^ pad;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx, padded, kBlock) != 1) {
      // Only on a broken OpenSSL installation: fail loudly rather than pseudonymise badly.
      std::abort();
    }
    return std::shared_ptr<const evp_md_ctx_st>(ctx, EVP_MD_CTX_free);
  };
  inner_ = pad_state(0x36);
  outer_ = pad_state(0x5c);
}

std::string Pseudonymizer::Pseudonymize(std::string_view raw_id) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned int inner_len = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (ctx == nullptr || EVP_MD_CTX_copy_ex(ctx, inner_.get()) != 1 ||
      EVP_DigestUpdate(ctx, raw_id.data(), raw_id.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, inner, &inner_len) != 1 ||
      EVP_MD_CTX_copy_ex(ctx, outer_.get()) != 1 || EVP_DigestUpdate(ctx, inner, inner_len) != 1 ||
      EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1) {
    std::abort();
  }
  EVP_MD_CTX_free(ctx);
  return ToHex(digest, digest_len, 64);
}

std::string HashId(std::initializer_list<std::string_view> parts, size_t hex_chars) {
  std::string joined;
  bool first = true;
  for (std::string_view part : parts) {
    if (!first) joined.push_back('\x1f');
    first = false;
    joined.append(part);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(joined.data(), joined.size(), digest, &digest_len, EVP_sha256(), nullptr);
  return ToHex(digest, digest_len, hex_chars);
}

}  // namespace ccstream::domain

#include "processor/domain/pseudonymize.h"

#include <string>

#include "gtest/gtest.h"

namespace ccstream::domain {
namespace {

TEST(PseudonymizerTest, IsHmacSha256) {
  // RFC 4231-style known answer (the widely published "quick brown fox" HMAC-SHA256 vector).
  Pseudonymizer p("key");
  EXPECT_EQ(p.Pseudonymize("The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(PseudonymizerTest, MatchesRfc4231Vectors) {
  // RFC 4231 test case 2 (a key shorter than the block).
  EXPECT_EQ(Pseudonymizer("Jefe").Pseudonymize("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 4231 test case 6 (a 131-byte key, longer than the block, is hashed first).
  EXPECT_EQ(Pseudonymizer(std::string(131, '\xaa'))
                .Pseudonymize("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(PseudonymizerTest, EmptyAndBlockSizedKeys) {
  // Python's hmac module gives the same answers.
  EXPECT_EQ(Pseudonymizer("").Pseudonymize("customer-1"),
            "7b3d64d2783b683c793fad520e0436fa518cc9895890aefba92a62716d084148");
  EXPECT_EQ(Pseudonymizer(std::string(64, 'k')).Pseudonymize("customer-1"),
            "c47b977f0f237ba934c57684436172a69d2ab7fcac6d0c56a958f80ec6f50e99");
}

TEST(PseudonymizerTest, DependsOnKeyAndId) {
  Pseudonymizer a("key-a-0123456789");
  Pseudonymizer b("key-b-0123456789");
  EXPECT_EQ(a.Pseudonymize("customer-1"), a.Pseudonymize("customer-1"));
  EXPECT_NE(a.Pseudonymize("customer-1"), a.Pseudonymize("customer-2"));
  EXPECT_NE(a.Pseudonymize("customer-1"), b.Pseudonymize("customer-1"));
  EXPECT_EQ(a.Pseudonymize("customer-1").find("customer"), std::string::npos);
}

TEST(HashIdTest, SeparatesPartsAndCuts) {
  EXPECT_NE(HashId({"ab", "c"}), HashId({"a", "bc"}));
  EXPECT_NE(HashId({"", "x"}), HashId({"x"}));
  EXPECT_EQ(HashId({"a", "b"}, 24).size(), 24u);
  EXPECT_EQ(HashId({"a", "b"}), HashId({"a", "b"}));
  // SHA-256("abc").
  EXPECT_EQ(HashId({"abc"}, 64),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace ccstream::domain

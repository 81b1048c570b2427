#include "processor/domain/lifecycle.h"

#include <cstdint>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace ccstream::domain {

std::optional<v1::CaseState> NextState(v1::CaseState from, v1::CaseAction::Kind action,
                                       bool awaiting_customer) {
  using v1::CaseAction;
  switch (action) {
    case CaseAction::ACKNOWLEDGE:
      if (from == v1::OPEN || from == v1::REOPENED) return v1::ACKNOWLEDGED;
      return std::nullopt;
    case CaseAction::START_INVESTIGATION:
      if (from == v1::ACKNOWLEDGED || from == v1::REFERRED) return v1::INVESTIGATING;
      return std::nullopt;
    case CaseAction::REFER:
      if (from == v1::INVESTIGATING) return v1::REFERRED;
      return std::nullopt;
    case CaseAction::RESOLVE:
      if (from == v1::INVESTIGATING || from == v1::REFERRED) return v1::RESOLVED;
      return std::nullopt;
    case CaseAction::FOLLOW_UP:
      if (from == v1::RESOLVED) return v1::FOLLOWED_UP;
      return std::nullopt;
    case CaseAction::CLOSE:
      if (from == v1::RESOLVED || from == v1::FOLLOWED_UP) return v1::CLOSED;
      return std::nullopt;
    case CaseAction::REOPEN:
      if (from == v1::RESOLVED || from == v1::FOLLOWED_UP || from == v1::CLOSED) {
        return v1::REOPENED;
      }
      return std::nullopt;
    case CaseAction::NOTE:
      if (from == v1::CASE_STATE_UNSPECIFIED) return std::nullopt;
      return from;
    case CaseAction::AWAITING_CUSTOMER_ON:
      if (awaiting_customer || from == v1::RESOLVED || from == v1::FOLLOWED_UP ||
          from == v1::CLOSED || from == v1::CASE_STATE_UNSPECIFIED) {
        return std::nullopt;
      }
      return from;
    case CaseAction::AWAITING_CUSTOMER_OFF:
      if (!awaiting_customer || from == v1::CASE_STATE_UNSPECIFIED) return std::nullopt;
      return from;
    default:
      return std::nullopt;
  }
}

bool ReadCaseSummary(std::string_view bytes, CaseSummary& out) {
  using google::protobuf::internal::WireFormatLite;
  using Tag = WireFormatLite::WireType;
  constexpr auto kTag = [](int field, Tag type) {
    return static_cast<uint32_t>(field << 3) | static_cast<uint32_t>(type);
  };
  constexpr uint32_t kCategory =
      kTag(v1::ComplaintCase::kCategoryFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  constexpr uint32_t kState =
      kTag(v1::ComplaintCase::kStateFieldNumber, WireFormatLite::WIRETYPE_VARINT);
  constexpr uint32_t kSeverity =
      kTag(v1::ComplaintCase::kSeverityFieldNumber, WireFormatLite::WIRETYPE_VARINT);
  out = CaseSummary{};
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();  // the end, or a malformed tag
    uint64_t number = 0;
    uint32_t length = 0;
    switch (tag) {
      case kCategory:
        if (!in.ReadVarint32(&length) || !in.ReadString(&out.category, static_cast<int>(length))) {
          return false;
        }
        break;
      case kState:
        if (!in.ReadVarint64(&number)) return false;
        out.state = static_cast<v1::CaseState>(static_cast<int32_t>(number));
        break;
      case kSeverity:
        if (!in.ReadVarint64(&number)) return false;
        out.severity = static_cast<v1::Severity>(static_cast<int32_t>(number));
        break;
      default:
        if (!WireFormatLite::SkipField(&in, tag)) return false;
        break;
    }
  }
}

}  // namespace ccstream::domain

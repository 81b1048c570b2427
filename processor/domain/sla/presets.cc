// The built-in SLA presets, written as SlaConfig text so that they read like a user's
// configuration (docs/sla.md shows them as tables; keep both in step).
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "processor/domain/sla/policy.h"

namespace ccstream::domain::sla {
namespace {

// Contact-centre targets per severity on a Monday-to-Friday 09:00-17:00 calendar named
// "business" (UTC; define a calendar named "business" to use your own hours and holidays).
constexpr char kDefaultPreset[] = R"pb(
  calendars {
    name: "business"
    time_zone: "UTC"
    hours {
      days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
      open: "09:00"
      close: "17:00"
    }
  }
  policies {
    name: "default-critical"
    severities: CRITICAL
    calendar: "business"
    milestones {
      kind: ACKNOWLEDGE
      business_time: "1h"
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "1h" }
    }
    milestones {
      kind: KEEP_INFORMED
      business_time: "2h"
      ladder { name: "team_lead" after: "0s" }
    }
    milestones {
      kind: RESOLVE
      business_days: 1
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "4h" }
    }
    milestones {
      kind: FOLLOW_UP
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
    }
  }
  policies {
    name: "default-high"
    severities: HIGH
    calendar: "business"
    milestones {
      kind: ACKNOWLEDGE
      business_time: "4h"
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "4h" }
    }
    milestones {
      kind: KEEP_INFORMED
      business_days: 1
      ladder { name: "team_lead" after: "0s" }
    }
    milestones {
      kind: RESOLVE
      business_days: 3
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "8h" }
    }
    milestones {
      kind: FOLLOW_UP
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
    }
  }
  policies {
    name: "default-medium"
    severities: MEDIUM
    calendar: "business"
    milestones {
      kind: ACKNOWLEDGE
      business_days: 1
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "8h" }
    }
    milestones {
      kind: KEEP_INFORMED
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
    }
    milestones {
      kind: RESOLVE
      business_days: 5
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "8h" }
    }
    milestones {
      kind: FOLLOW_UP
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
    }
  }
  policies {
    name: "default-low"
    severities: LOW
    calendar: "business"
    milestones {
      kind: ACKNOWLEDGE
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "16h" }
    }
    milestones {
      kind: KEEP_INFORMED
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
    }
    milestones {
      kind: RESOLVE
      business_days: 10
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "16h" }
    }
    milestones {
      kind: FOLLOW_UP
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
    }
  }
)pb";

// UK FCA DISP 1.6 complaint handling on a Europe/London calendar with the England and Wales
// bank holidays of 2025-2027 (extend `holidays` for later years).
constexpr char kUkFcaDispPreset[] = R"pb(
  calendars {
    name: "uk-england-wales"
    time_zone: "Europe/London"
    hours {
      days: [ MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY ]
      open: "09:00"
      close: "17:00"
    }
    holidays: [
      "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25",
      "2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
      "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28", "2027-01-01", "2027-03-26",
      "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"
    ]
  }
  policies {
    name: "uk-fca-disp"
    calendar: "uk-england-wales"
    milestones {
      kind: ACKNOWLEDGE
      business_days: 1
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "8h" }
    }
    milestones {
      kind: KEEP_INFORMED
      business_days: 5
      ladder { name: "team_lead" after: "0s" }
    }
    milestones { kind: RESOLVE name: "summary_resolution" close_of_business_day: 3 pausable: false }
    milestones {
      kind: RESOLVE
      name: "final_response"
      calendar_days: 56
      pausable: false
      ladder { name: "team_lead" after: "0s" }
      ladder { name: "manager" after: "24h" }
    }
    milestones {
      kind: FOLLOW_UP
      business_days: 2
      ladder { name: "team_lead" after: "0s" }
    }
  }
)pb";

}  // namespace

absl::StatusOr<v1::SlaConfig> PresetConfig(std::string_view name) {
  const char* text = nullptr;
  if (name == "default") {
    text = kDefaultPreset;
  } else if (name == "uk-fca-disp") {
    text = kUkFcaDispPreset;
  } else if (name == "none") {
    return v1::SlaConfig();
  } else {
    return absl::NotFoundError(absl::StrCat("unknown SLA preset \"", std::string(name),
                                            "\"; use default, uk-fca-disp or none"));
  }
  v1::SlaConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(text, &config)) {
    return absl::InternalError(
        absl::StrCat("built-in SLA preset \"", std::string(name), "\" does not parse"));
  }
  return config;
}

}  // namespace ccstream::domain::sla

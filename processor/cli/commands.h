#pragma once

namespace ccstream::cli {

// Each subcommand of the `ccstream` binary; argv[0] is the binary and argv[1] the subcommand.
// Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration, 3 Kafka unreachable.
int RunCommand(int argc, char** argv);
int CheckConfigCommand(int argc, char** argv);
int DemoCommand(int argc, char** argv);
int ReplayCommand(int argc, char** argv);
int GenCommand(int argc, char** argv);
int ClassifyCommand(int argc, char** argv);
int CasesCommand(int argc, char** argv);

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

}  // namespace ccstream::cli

// Crash points: named places between two writes of shared state where a test build can kill the
// process, to prove that recovery repairs whatever a holder that dies there leaves half-done.
//
//   MINIRAY_CRASH_POINT("phase2.insert.after_memset");
//
// In a normal build the macro is empty: no cost, no behaviour. In a build compiled with
// -DMINIRAY_CRASH_POINTS (the *_crash targets of binding.gyp), the environment variable
//
//   MINIRAY_CRASH_AT=<name>:<count>
//
// makes the <count>-th (1-based) passage through the point called <name> kill the process with
// SIGKILL on the spot: no unwinding, no unlock, no destructor, exactly like `kill -9` there.
// MINIRAY_CRASH_LOG=<file> appends every point's name as it is passed (once per name and process),
// so a suite can list the points an operation goes through and arm each in turn.
#pragma once

#if defined(MINIRAY_CRASH_POINTS)
namespace miniray {
void CrashPoint(const char* name);
}  // namespace miniray
#define MINIRAY_CRASH_POINT(name) ::miniray::CrashPoint(name)
#else
#define MINIRAY_CRASH_POINT(name) ((void)0)
#endif

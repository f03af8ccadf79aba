#pragma once
// Child processes for tests (the TCIA emulator, storescp, ...): fork/exec, wait until the child
// listens on a loopback port, stop it. Plain functions on a pid; the caller owns the pid and
// must call stopProcess once (unless waitUntilListening threw). All calls block the calling thread only.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace bridge::test {

/// fork + execv(args[0], args) with `env` (name, value) set in the child only; returns the pid.
/// A child whose exec fails exits with status 127.
int spawnProcess(const std::vector<std::string>& args,
                 const std::vector<std::pair<std::string, std::string>>& env = {});

/// Blocks until 127.0.0.1:port accepts a TCP connection. Throws std::runtime_error naming `what`
/// if the child exits first ("<what> exited early") or `timeout` passes ("<what> did not start
/// listening"); either way the child is then reaped and must not be stopped again.
void waitUntilListening(int pid, unsigned short port, std::chrono::milliseconds timeout,
                        const std::string& what);

/// SIGTERM, then reap; no-op for pid <= 0.
void stopProcess(int pid);

}  // namespace bridge::test

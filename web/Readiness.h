#pragma once
// GET /ready: the bridge can answer queries -- the catalog is open and TCIA answered recently
// (any answer below 500 within `fresh`, seen by HttpTransport through the
// tcia_bridge_tcia_last_success_timestamp_seconds gauge). When TCIA has been quiet longer, one
// probe call is made (at most one at a time; concurrent checks report "probe in progress").
// Thread-safe.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace bridge::web {

class ReadinessProbe {
public:
    /// `catalogOpen` says whether the catalog is usable ("" = yes, else why not); `probeTcia`
    /// makes one cheap TCIA call and throws when TCIA does not answer.
    ReadinessProbe(std::function<std::string()> catalogOpen, std::function<void()> probeTcia,
                   std::chrono::seconds fresh = std::chrono::seconds(300));
    /// "" when ready, else the reason (for a 503 body).
    std::string check();

private:
    std::function<std::string()> catalogOpen_;
    std::function<void()> probeTcia_;
    std::chrono::seconds fresh_;
    std::mutex probing_;
};

}  // namespace bridge::web

#pragma once

#include "client/devicechannel.h"

#include <QString>

#include <functional>

namespace edgelens {

// The one answer to "the device went away" for every processing loop (the app's queue, the
// CLI). Two layers, each doing one thing:
//   - the client's channels reconnect: a device that drops or refuses is probed again after
//     200 ms, doubling to 3 s (ChannelSettings::kDefaultBackoffInitialMs / kDefaultBackoffMaxMs),
//     and requests wait in the client meanwhile; after a few failed probes in a row the client
//     fails what it holds as retryable;
//   - this policy decides what the loop does with such a failure: while the outage is younger
//     than its limit (60 s) the item goes back to the front of the loop and is sent again (the
//     channel's backoff paces the next try, the loop does not wait on its own); once nothing has
//     got through for the limit, the item and everything still queued fail with the reason.
// Only a link that worked can have an outage: while nothing has got through yet (a wrong
// address, no server running), a failure is the item's answer once the client has spent its
// own re-sends, as it always was for the CLI; forget() starts afresh for a new target.
// A failure on a working connection (a timeout, a server error) or of an item that failed
// kMaxStrikes times while others got through is the item's, not the link's: it fails.
// The loop never waits on its own account, except that an item sent again is not sent
// sooner than kMinResendMs after its last try: a client that fails at once (no device
// enabled) must not turn the outage into a busy loop.
//
// Time comes from a clock the caller can replace (tests), in milliseconds of a steady clock.
class OutagePolicy final
{
public:
    static constexpr int kDefaultLimitMs = 60000;
    static constexpr int kMaxStrikes = 4; // failures of one item while others got through
    static constexpr int kMinResendMs = ChannelSettings::kDefaultBackoffInitialMs; // the channel's first step

    using Clock = std::function<qint64()>;
    explicit OutagePolicy(Clock clock = {});

    void setLimit(int milliseconds);
    int limit() const { return m_limitMs; }

    enum class Decision { Fail, SendAgain, FailEverything };
    // A request failed. retryable: the client says the request never got an answer because
    // the link went away; connected: the client still has a working connection; strikes:
    // how often this item failed while other items got answers. SendAgain and FailEverything
    // start (or continue) an outage.
    Decision onFailure(bool retryable, bool connected, int strikes);
    // How long to wait before sending an item again that was last sent sentAgoMs ago.
    static int resendDelay(qint64 sentAgoMs);
    // Something got through. True when that ended an outage.
    bool onSuccess();
    // The outage ended without an answer (cancelled). True when one was on.
    bool reset();
    // Another target: nothing has got through to it yet. True when an outage was on.
    bool forget();
    bool linkWorked() const { return m_linkWorked; }

    bool inOutage() const { return m_since >= 0; }
    qint64 outageMs() const; // how long nothing has got through; 0 when none
    // The reason items get when the loop gives up: "<reason> (nothing got through for N s)".
    QString givingUp(const QString &reason) const;

private:
    qint64 now() const;

    Clock m_clock;
    int m_limitMs = kDefaultLimitMs;
    qint64 m_since = -1; // when the outage started, on m_clock; -1: none
    bool m_linkWorked = false;
};

} // namespace edgelens

#pragma once

#include "inputs/framesource.h"
#include "inputs/imageorigin.h"
#include "live/liveframe.h"
#include "live/streamspec.h"

#include <QObject>
#include <QSize>
#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cv {
class VideoCapture;
}

namespace edgelens {

// A live source (camera, RTSP, HTTP MJPEG, or a file played in real time) read by OpenCV's
// videoio on a capture thread of its own that keeps only the newest frame: whoever takes
// frames (takeLatest) gets the newest one, and frames it had no time for are counted as
// dropped here, never queued. Latest frame wins, so a slow consumer lowers its rate but never
// builds a backlog.
//
// A stalled source is noticed by a read timeout (readTimeoutMs, a few seconds, instead of
// FFmpeg's 30 s), a vanished one by its read failing; both go to Reconnecting and are opened
// again with ReconnectPolicy's capped backoff until they deliver frames again. A file plays at
// its own timestamps and starts again at its end (loop), or ends; a looping file that cannot be
// opened again (moved away, being replaced) is waited for the same way until it is back. close() (also from the destructor) stops the thread and waits for it, whatever it is
// doing: opening, reading, or waiting for the next attempt; a read in progress returns within
// the read timeout at worst.
//
// Two ways to take frames, both "newest frame wins" from the same slot (use one per source):
// - pushed, for the live loop on an event loop: frameAvailable() then takeLatest();
// - pulled, as the FrameSource every frame consumer knows (FrameSampler, FrameExtractor):
//   open() starts the capture thread and waits for the first frame (properties() are known
//   then); next() blocks for a frame newer than the last one handed out, at most the read
//   timeout, and answers Stalled (reconnecting, or nothing yet), End (a file played once
//   ended, or the source was closed: also from another thread while next() waits) or Error
//   (a file that is not a video). Frame indices are 0-based capture sequence numbers, so a gap
//   is a frame dropped here; timestamps are ms since the source started, on the steady clock.
//
// Lives in the thread that created it; signals arrive there (queued from the capture thread).
class StreamSource final : public QObject, public FrameSource
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamSource)

public:
    enum class State { Idle, Connecting, Live, Reconnecting, Ended, Failed, Closed };
    Q_ENUM(State)

    struct Options
    {
        int openTimeoutMs = 5000;
        int readTimeoutMs = 2000;    // a stall is noticed within this
        int backoffInitialMs = 250;  // ReconnectPolicy
        int backoffMaxMs = 1000;
    };

    explicit StreamSource(const StreamSpec &spec, QObject *parent = nullptr);
    StreamSource(const StreamSpec &spec, const Options &options, QObject *parent = nullptr);
    ~StreamSource() override;

    const StreamSpec &spec() const { return m_spec; }
    void start(); // the capture thread; open() calls it too
    void close() override;

    // FrameSource
    QString name() const override { return m_spec.display(); } // masked
    bool open(QString *error) override;
    SourceProperties properties() const override;
    Read next(SourceFrame *frame, Pixels pixels, QString *error) override;

    // The newest frame not taken yet; false when none arrived since the last take.
    bool takeLatest(LiveFrame *frame);
    // Where a frame of this source came from, as sidecars and exports record it: a live frame
    // of the masked source, its index and time as next() gives them; how it was chosen.
    ImageOrigin originOf(const LiveFrame &frame, const QString &chosenBy) const;

    State state() const { return m_state.load(); }
    QSize frameSize() const;   // of the last frame, empty before the first
    double sourceFps() const;  // as the source declares it (0: unknown)
    quint64 framesDecoded() const { return m_decoded.load(); }
    quint64 framesDropped() const { return m_overwritten.load(); } // replaced before anyone took them
    int reconnects() const { return m_reconnects.load(); }

    static QString stateName(State state); // "connecting", "live", "reconnecting", ...

Q_SIGNALS:
    // A frame is waiting (coalesced: one signal until the next takeLatest()).
    void frameAvailable();
    // message says why (the source's error, masked), or what is being tried.
    void stateChanged(edgelens::StreamSource::State state, const QString &message);

private:
    void run();
    bool open(cv::VideoCapture &capture, QString *why);
    void readLoop(cv::VideoCapture &capture, bool *delivered, QString *why);
    void setState(State state, const QString &message);
    void store(LiveFrame frame);
    bool waitFor(int milliseconds); // false when closing
    bool closing() const { return m_stop.load(); }
    void wakeReaders(); // open() / next() waiting on m_frameReady
    // Under m_slotMutex: the source gives no more frames (closed, ended, failed).
    bool finishedLocked() const;
    double timestampMs(const LiveFrame &frame) const; // since start(), steady clock

    const StreamSpec m_spec;
    const Options m_options;
    std::mutex m_threadMutex; // start() and close() may race (a reader opens, another thread closes)
    std::thread m_thread;
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_stop{false};
    std::mutex m_waitMutex;
    std::condition_variable m_wake;

    mutable std::mutex m_slotMutex;
    std::condition_variable m_frameReady; // a frame stored, a final state, or close()
    LiveFrame m_latest;
    bool m_fresh = false;
    bool m_notifyPending = false;
    QSize m_size;
    double m_fps = 0;
    QString m_codec;        // FourCC of the stream, or the backend's name
    QString m_lastMessage;  // of the last state change (masked), for next()'s Error
    std::chrono::steady_clock::time_point m_startedAt;

    std::atomic<State> m_state{State::Idle};
    std::atomic<quint64> m_decoded{0};
    std::atomic<quint64> m_overwritten{0};
    std::atomic<int> m_reconnects{0};
    quint64 m_sequence = 0;   // capture thread only
    quint64 m_connection = 0; // capture thread only
};

} // namespace edgelens

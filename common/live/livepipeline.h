#pragma once

#include "client/poolmodels.h"
#include "live/framereducer.h"
#include "live/liveframe.h"
#include "live/rollingwindow.h"
#include "protocol/detection.h"

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QPointer>
#include <QSize>
#include <QString>
#include <QTimer>

#include <map>

namespace edgelens {

class DetectionClient;
class StreamSource;
struct ClientResult;

// One frame handed to the screen (or to a script), with the boxes that belong to it.
struct LiveResult
{
    LiveFrame frame;
    QList<Detection> detections; // in frame pixels
    // true: the boxes were computed from this very frame. false (LivePipeline::NewestFrame):
    // they are the newest boxes, computed from frame boxesSequence, boxesAgeMs before.
    bool detected = false;
    quint64 boxesSequence = 0;
    qint64 boxesAgeMs = 0;
    double latencyMs = 0;   // capture (the frame's own stamp when it has one) to this hand-over
    double roundTripMs = 0; // request written -> reply parsed
    double deviceMs = 0;    // the device's own time for it (decode + inference + markup + encode)
    QString device;
    QString model;
};

// The figures the overlay, the status bar and the CLI's summary show.
struct LiveFigures
{
    QString state;               // the source's: "live", "reconnecting", ...
    QSize sourceSize;
    double sourceFps = 0;        // declared by the source
    double decodedFps = 0;       // measured, last window
    quint64 decoded = 0;         // frames decoded since the start
    quint64 detected = 0;        // frames with their detections back
    double detectionsPerSecond = 0; // last window
    quint64 dropped = 0;         // decoded frames never detected: replaced by newer ones, or expired
    quint64 expired = 0;         // of them: refused by the device's deadline
    quint64 failed = 0;          // requests that failed otherwise
    double latencyP50Ms = 0;     // capture to screen, last window
    double latencyP95Ms = 0;
    bool latencyFromStamps = false; // measured from the frames' own capture stamps (else arrival)
    double deviceP50Ms = 0;      // the device's time per frame, last window
    double deviceP95Ms = 0;
    int inFlight = 0;
    int reconnects = 0;

    QString summaryLine() const; // "1280x720 @30 fps · 12.3 det/s · p95 210 ms · ..." for people
};

// The live loop: takes the newest frame of a StreamSource whenever fewer than maxInFlight
// requests are out, reduces it once for the model (the size every device of the target can
// use, PoolModels), sends it through the DetectionClient façade with a deadline, and hands
// frames to the screen in capture order with the boxes computed from them (the pool may answer
// out of order; a frame whose request failed or expired is skipped, not shown late). A slow
// device lowers the detection rate; nothing queues, so latency does not grow with time.
// NewestFrame shows every decoded frame at once with the newest boxes and their age instead.
class LivePipeline final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LivePipeline)

public:
    enum class Display { DetectedFrame, NewestFrame };

    struct Options
    {
        int maxInFlight = 2;          // for the whole target
        // Sent as soon as a frame is there (one per device); further requests up to
        // maxInFlight are paced: sent shortly before the device is expected to be free, so
        // the device never idles and a frame waits there as little as possible.
        int immediate = 1;
        bool pace = true;
        int deadlineMs = 1000;        // v2 deadline_ms of each request; < 0: none
        DetectOptions detect;         // returnImage is forced off: boxes are drawn here
        double inputMultiple = 2.0;   // as photos: pixels per model input pixel on each side
        int jpegQuality = 85;
        Display display = Display::DetectedFrame;
        int windowMs = 10000;         // the figures' "last seconds"
    };

    LivePipeline(DetectionClient *client, StreamSource *source, const Options &options, QObject *parent = nullptr);
    ~LivePipeline() override;

    void start(); // asks the devices what they serve, then starts the source
    void stop();  // forgets what is in flight; the source is left to its owner
    bool isRunning() const { return m_running; }
    LiveFigures figures(); // prunes the windows to now
    QSize sentSize() const { return m_lastSentSize; }

Q_SIGNALS:
    void frameReady(const edgelens::LiveResult &result);
    void figuresChanged(const edgelens::LiveFigures &figures); // twice a second
    void requestProblem(const QString &reason);                // a failed request (not an expiry), for the log

private:
    struct Entry
    {
        LiveFrame frame;
        ReducedFrame prepared;
        quint64 requestId = 0;
        qint64 takenMs = 0; // steady clock, when taken from the source
        bool done = false;
        bool ok = false;
        LiveResult result;
    };

    void onFrameAvailable();
    void pump();
    bool canSend(); // may arm the pacing timer
    void send(LiveFrame frame);
    void submitPrepared(quint64 sequence, ReducedFrame prepared);
    // The entry a reply is for, marked done; null when the request is not (or no longer) ours.
    Entry *answeredEntry(quint64 requestId);
    void onResult(quint64 id, const ClientResult &result);
    void onFailed(quint64 id, const QString &reason);
    void onServerInfo(quint64 id, const QJsonObject &info, const QString &device);
    void flush();
    void publish(LiveResult result);
    qint64 steadyMs() const;

    DetectionClient *m_client;
    QPointer<StreamSource> m_source;
    Options m_options;
    PoolModels m_models;
    bool m_modelsKnown = false;
    bool m_running = false;
    quint64 m_runGeneration = 0; // bumped by stop(): preparations of an earlier run are dropped
    std::map<quint64, Entry> m_pending;   // by frame sequence: preparing or in flight
    QHash<quint64, quint64> m_byRequest;  // request id -> frame sequence
    QSize m_lastSentSize;

    // Newest boxes, for Display::NewestFrame.
    QList<Detection> m_newestBoxes;
    quint64 m_newestBoxesSequence = 0;
    qint64 m_newestBoxesCapturedMs = 0;

    QTimer m_figuresTimer;
    QTimer m_paceTimer;
    double m_deviceEwmaMs = 0; // the device's time per frame, smoothed
    qint64 m_lastResultMs = -1;
    QElapsedTimer m_clock;
    RollingWindow m_latency;
    RollingWindow m_device;
    RollingWindow m_detections;
    RollingWindow m_decodedWindow;
    quint64 m_lastDecoded = 0;
    quint64 m_detected = 0;
    quint64 m_expired = 0;
    quint64 m_failed = 0;
    quint64 m_skipped = 0; // taken for display but not sent (NewestFrame)
    bool m_sawStamps = false;
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::LiveResult)
Q_DECLARE_METATYPE(edgelens::LiveFigures)

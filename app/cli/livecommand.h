#pragma once

#include "client/detectionclient.h"
#include "live/livepipeline.h"
#include "live/streamsource.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>

#include <memory>
#include <optional>

namespace edgelens {

class DetectionServer;
struct LiveArguments;

// `edgelens-cli live SOURCE`: a camera, an RTSP or HTTP MJPEG stream or a video file played in
// real time, through a device (--host, repeatable: a pool) or a server started in this process
// (the default). With --json-lines every frame whose detections came back is one JSON line on
// stdout (frame number, capture time, detections, latency), and a summary line ends the run;
// the source's state changes ("reconnecting ...") go to stderr. Runs for --duration seconds,
// or until SIGINT/SIGTERM.
class LiveCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveCommand)

public:
    enum ExitCode { Success = 0, NothingDetected = 1, NoModel = 2, UsageError = 64 };

    LiveCommand();
    ~LiveCommand() override;

    // arguments[0] is the program name, arguments[1] "live". Runs the event loop until done.
    int run(const QStringList &arguments);

private:
    // The server in this process, when no --host was given; nullopt with *exitCode on failure.
    std::optional<DeviceSpec> startEmbeddedServer(const LiveArguments &args, int *exitCode);
    void reportState(StreamSource::State state, const QString &message); // on stderr
    void printFrame(const LiveResult &result);
    void finish();
    int summarize(); // stops, prints the summary; the exit code

    std::unique_ptr<DetectionServer> m_server;
    DetectionClient m_client;
    std::unique_ptr<StreamSource> m_source;
    std::unique_ptr<LivePipeline> m_pipeline;
    QElapsedTimer m_clock;
    bool m_jsonLines = false;
    bool m_quiet = false;
    bool m_finished = false;
    StreamSource::State m_lastState = StreamSource::State::Idle;
};

} // namespace edgelens

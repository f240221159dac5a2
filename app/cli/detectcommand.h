#pragma once

#include "client/detectionclient.h"
#include "client/imagescanner.h"
#include "client/resultwriter.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QStringList>

#include <memory>

namespace edgelens {

class DetectionServer;

// `edgelens-cli [detect] PATHS...`: sends every image to a server (a remote one, or one started
// in-process with --embedded) and writes the marked-up results. The images are read and
// submitted a few at a time so memory stays flat for any number of inputs.
class DetectCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetectCommand)

public:
    enum ExitCode { Success = 0, SomeFailed = 1, NoModel = 2, UsageError = 64 };

    DetectCommand();
    ~DetectCommand() override;

    // arguments[0] is the program name. Runs the event loop until done; returns the exit code.
    int run(const QStringList &arguments);

private:
    void submitMore();
    void handleResult(quint64 id, const ClientResult &result);
    void handleFailure(quint64 id, const QString &reason, bool retryable);
    void reportFailure(const ScannedImage &image, const QString &reason);
    void finishIfDone();

    std::unique_ptr<DetectionServer> m_server;
    DetectionClient m_client;
    ResultWriter m_writer;
    DetectOptions m_options;
    QList<ScannedImage> m_images;
    QHash<quint64, int> m_inFlight; // request id -> index in m_images
    int m_next = 0;                 // next image to submit
    int m_window = 8;               // images read and queued at once
    int m_done = 0;
    int m_failed = 0;
    int m_failedBeforeStart = 0; // named paths that were missing or not images
    bool m_quiet = false;
    QElapsedTimer m_clock;
};

} // namespace edgelens

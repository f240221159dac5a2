#pragma once

#include "client/detectionclient.h"
#include "inputs/imagescanner.h"
#include "client/poolmodels.h"
#include "results/resultwriter.h"
#include "imaging/imagetransfer.h"

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
//
// Files are read the way the desktop app reads them (ImageFileReader: refused above the
// server's 64 MB frame limit) and moved the same way (ImageTransfer): a v2 server is first
// asked what it serves (each device of a pool: they may run different models), large photos go
// as reduced copies sized for the largest model input among them, the server
// sends detections only and the result JPEG is drawn here on the original (fit within 2048 px
// by default). Legacy servers get the file and their marked-up JPEG is saved as it came.
// Reading, reducing, drawing and writing run on the global thread pool; the event loop only
// moves small data.
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
    enum class ServerKind { Unknown, Asking, V2, Legacy };
    struct Open
    {
        quint64 requestId = 0;  // 0 while reading or saving
        PreparedImage prepared; // what was sent (payload released once submitted)
        bool drawLocally = false;
    };

    void start();
    void handleServerInfo(quint64 id, const QJsonObject &info, const QString &device);
    void infoSettled();
    void submitMore();
    void readFinished(int index, PreparedImage prepared, const QString &error);
    void handleResult(quint64 id, const ClientResult &result);
    void saveFinished(int index, const ClientResult &result, const QString &error);
    void handleFailure(quint64 id, const QString &reason, bool retryable);
    void reportFailure(const ScannedImage &image, const QString &reason);
    void finishIfDone();
    void printSkippedOutputs() const;

    std::unique_ptr<DetectionServer> m_server;
    DetectionClient m_client;
    ResultWriter m_writer;
    DetectOptions m_options;
    QList<ScannedImage> m_images;
    QHash<int, Open> m_open;        // index in m_images -> being read, in flight or being saved
    QHash<quint64, int> m_inFlight; // request id -> index in m_images
    int m_next = 0;                 // next image to submit
    int m_window = 8;               // images being read or in flight at once
    int m_saving = 0;               // open images whose result is being drawn and written
    ServerKind m_serverKind = ServerKind::Unknown;
    PoolModels m_served; // what each device serves (and the server-info requests asking it)
    bool m_sendOriginal = false;
    int m_resultMaxSide = 2048;
    int m_skippedOutputFolders = 0;
    int m_skippedOutputImages = 0;
    int m_done = 0;
    int m_failed = 0;
    int m_failedBeforeStart = 0; // named paths that were missing or not images
    bool m_quiet = false;
    QElapsedTimer m_clock;
};

} // namespace edgelens

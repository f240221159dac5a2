#pragma once

#include "client/detectionclient.h"
#include "inputs/imagescanner.h"
#include "client/poolmodels.h"
#include "results/resultwriter.h"
#include "export/exportitem.h"
#include "imaging/imagetransfer.h"
#include "inputs/frameextractor.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QStringList>

#include <memory>

namespace edgelens {

class DetectionServer;
class VideoFeed;

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
//
// Video files (named or found in folders) are sampled (--every-frames, --every-seconds,
// --scene-changes, --from/--to; one frame a second by default): each kept frame is written to
// <output>/frames/ as "<stem>_f<index>.jpg" by a VideoFeed and then goes through the same
// loop as a photo; its sidecar records the video, the frame index, the decoder's timestamp and
// the rule. Videos run one after another after the photos, each at most a window of frames
// ahead of the link. At the end every video's boxes are linked into tracks and written as a
// MOTChallenge sequence in <output>/tracks/.
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
    bool probeVideos(const QList<ScannedImage> &videos);
    void pullFrames();      // frames the current video's feed has ready join the work list
    bool openNextVideo();   // false when no video is left
    void writeTracks();
    bool videosPending() const { return m_feed != nullptr || m_nextVideo < m_videos.size(); }

    std::unique_ptr<DetectionServer> m_server;
    QList<ScannedImage> m_videos; // in scan order; each becomes frames when its turn comes
    QList<qint64> m_videoEstimates; // frames each video's rule is expected to give (-1: unknown)
    int m_nextVideo = 0;
    VideoFeed *m_feed = nullptr;  // the video being sampled
    FrameExtractor::Options m_frameOptions;
    QString m_outputDir;
    qint64 m_expected = 0;        // photos + frames expected: the [n/N] of the progress lines
    QList<ExportItem> m_frameResults; // boxes of finished frames, for the tracks
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

#pragma once

#include "client/detectionclient.h"
#include "detectarguments.h"
#include "export/exportitem.h"
#include "inputs/imagescanner.h"
#include "processing/processingloop.h"
#include "results/resultwriter.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QStringList>

#include <memory>

namespace edgelens {

class DetectionServer;
class VideoFeed;

// `edgelens-cli [detect] PATHS...`: sends every image to a server (a remote one, or one started
// in-process with --embedded) and writes the marked-up results. The work is the one processing
// loop the desktop app uses too (ProcessingLoop: a few images read and in flight at a time, so
// memory stays flat for any number of inputs; a v2 server first asked what it serves and sent
// reduced copies of large photos, the result drawn here on the original, fit within 2048 px by
// default; legacy servers get the file and their marked-up JPEG is saved as it came; a device
// that goes away is waited for as OutagePolicy says). This class is its command-line face:
// options, the embedded server, progress lines, tracks and the exit code.
//
// Video files (named or found in folders) are sampled (--every-frames, --every-seconds,
// --scene-changes, --from/--to; one frame a second by default): each kept frame is written to
// <output>/frames/ as "<stem>_f<index>.jpg" by a VideoFeed and then goes through the same
// loop as a photo; its sidecar records the video, the frame index, the decoder's timestamp and
// the rule. Videos run one after another, each at most a window of frames ahead of the link.
// At the end every video's boxes are linked into tracks and written as a MOTChallenge sequence
// in <output>/tracks/.
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
    bool collectInputs(); // false: nothing to do (the summary is printed)
    int startEmbeddedServer(QList<DeviceSpec> *devices); // Success or the exit code to return
    void connectClient();
    void connectLoop();
    void start();
    SavePlan planSave(const ScannedImage &image) const;
    void itemFinished(const QString &path, const ItemOutcome &outcome);
    void reportFailure(const ScannedImage &image, const QString &reason);
    void finishIfDone();
    void printSkippedOutputs() const;
    void probeVideos(const QList<ScannedImage> &videos);
    bool openNextVideo(); // false when no video is left
    void writeTracks();

    DetectArguments m_args;
    std::unique_ptr<DetectionServer> m_server;
    QList<ScannedImage> m_images; // the photos, in scan order
    QList<ScannedImage> m_videos; // in scan order; each becomes frames when its turn comes
    int m_nextVideo = 0;
    qint64 m_expected = 0;        // photos + frames expected: the [n/N] of the progress lines
    qint64 m_framesQueued = 0;
    QHash<QString, ScannedImage> m_pending; // queued or open, by path: what their lines name
    QList<ExportItem> m_frameResults;       // boxes of finished frames, for the tracks
    DetectionClient m_client;
    ResultWriter m_writer;
    ProcessingLoop m_loop{&m_client};
    int m_skippedOutputFolders = 0;
    int m_skippedOutputImages = 0;
    int m_done = 0;
    int m_failed = 0;
    int m_failedBeforeStart = 0; // named paths that were missing or not images
    bool m_finished = false;
    QElapsedTimer m_clock;
};

} // namespace edgelens

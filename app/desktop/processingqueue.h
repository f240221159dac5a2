#pragma once

// Feeds gallery items to a DetectionClient and records what comes back. Image bytes are
// read and results written on worker threads; the GUI thread only moves small data.
//
// For a v2 server the queue first asks what it serves (server-info): large photos then go as
// reduced copies sized for the model's input (ImageTransfer, on worker threads), the server is
// asked for detections only, and the marked-up JPEG is drawn here on the original with the
// shared annotator. Legacy servers get the file and send back their marked-up JPEG, as ever.
//
// Only a few items are "open" at a time (read, submitted or being saved), so 10,000 queued
// images cost no memory until their turn. Every item that enters ends as done, failed (with
// a reason) or cancelled: the client re-sends requests lost with a dropped connection, and
// what still fails is marked failed, never left queued.

#include "client/poolmodels.h"
#include "galleryitem.h"
#include "inputs/samplingrule.h"
#include "imaging/imagetransfer.h"
#include "protocol/detection.h"
#include "resultsaver.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <deque>
#include <vector>

namespace edgelens {

class DetectionClient;
class GalleryModel;
class ThumbnailCache;
class VideoFeed;
struct ClientResult;

class ProcessingQueue final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProcessingQueue)

public:
    struct OutputOptions
    {
        QString directory; // empty: "<folder of each image>/inferenced", else Pictures/EdgeLens
        bool jsonSidecars = true;
    };

    struct TransferSettings
    {
        bool sendOriginalFiles = false; // never reduce: send each file as it is
        int resultMaxSide = 2048;       // results drawn here fit within this; 0: original size
    };

    ProcessingQueue(GalleryModel *model, DetectionClient *client, QObject *parent = nullptr);
    ~ProcessingQueue() override;

    void setDetectOptions(const DetectOptions &options);
    DetectOptions detectOptions() const { return m_options; }
    void setOutputOptions(const OutputOptions &options);
    OutputOptions outputOptions() const { return m_output; }
    void setTransferSettings(const TransferSettings &settings) { m_transfer = settings; }
    TransferSettings transferSettings() const { return m_transfer; }
    void setMaxInFlight(int count);
    int maxInFlight() const { return m_maxInFlight; }

    // Items wait while the target is not ready (e.g. the embedded server is starting).
    void setTargetReady(bool ready);
    bool isTargetReady() const { return m_targetReady; }

    void enqueue(const QStringList &canonicalPaths); // items must be in the model

    // Samples a video with rule and queues its frames as they are extracted: each frame is
    // written to the frames folder of the video's output folder ("<stem>_f<index>.jpg") and
    // becomes a gallery row whose origin names the video, frame index and timestamp (the row
    // is added here, then videoFrameAdded). Frames are extracted only a few ahead of the work
    // (also while paused), so a long video costs no memory. False with *error when the file
    // cannot be opened as a video; otherwise videoStarted now and videoFinished at the end.
    bool enqueueVideo(const QString &videoPath, const SamplingRule &rule, QString *error = nullptr);
    // The frames a rule will give a video, before running it; -1 when unknown (scene changes).
    static qint64 estimateFrames(const QString &videoPath, const SamplingRule &rule, QString *error = nullptr);
    int videosRunning() const { return int(m_feeds.size()); }
    void pause();
    void resume();
    bool isPaused() const { return m_paused; }
    int cancel();      // queued and open items become Cancelled; returns how many
    int retryFailed(); // Failed and Cancelled items are queued again; returns how many
    // The target cannot be reached at all (e.g. the embedded server failed to start): every
    // queued item fails with this reason instead of waiting forever. Returns how many.
    int failQueued(const QString &reason);
    // The target is about to go away on purpose (the embedded server restarts with another
    // model): take back what is being read or waiting for an answer and queue it again at
    // the front, instead of letting the client burn its retries on a closed port.
    int requeueInFlight();
    bool isBusy() const; // anything queued or open

    // A lost target (connection refused or dropped after the client's own re-sends) does not
    // fail the whole queue at once: failed requests go back to the front, sending holds with a
    // growing pause (1 s doubling to 8 s), and only when nothing has got through for this long
    // do the remaining images fail with the reason. Default 60 s.
    void setOutageLimit(int milliseconds) { m_outageLimitMs = qMax(0, milliseconds); }
    int outageLimit() const { return m_outageLimitMs; }
    bool isHolding() const; // in an outage, waiting before the next try

    // Progress of the current batch (resets when the queue runs empty and new work comes).
    int batchTotal() const { return m_batchTotal; }
    int batchFinished() const { return m_batchFinished; }
    double imagesPerSecond() const;     // over the last few seconds
    qint64 estimatedRemainingMs() const; // -1 while unknown
    double lastRoundTripMs() const { return m_lastRoundTripMs; }

    ResultSaver &resultSaver() { return m_saver; } // its threshold policy is the app's

    // The gallery's thumbnails: images this queue decodes anyway give the cache their
    // thumbnails (original and result), and the cache does not decode again what the queue
    // is about to read (willProvideThumbnail).
    void setThumbnailCache(ThumbnailCache *cache);
    bool willProvideThumbnail(const QString &path) const;

    // Where results for this image go (also used by tests and the UI).
    QString outputDirectoryFor(const QString &imagePath) const;

signals:
    void progressChanged();
    void itemFinished(const QString &path, bool ok);
    void idle(); // nothing queued or open any more
    void outputError(const QString &message);
    void outageChanged(bool lost, const QString &reason); // lost: holding and retrying
    void videoStarted(const QString &videoPath, qint64 estimatedFrames); // -1: unknown
    void videoFrameAdded(const QString &videoPath, const QString &framePath);
    void videoVariableFrameRate(const QString &videoPath); // frame times are the decoder's, not index / fps
    // error empty: every frame the rule picks was extracted; otherwise why it stopped (the
    // frames before, e.g. of a truncated file, stay queued).
    void videoFinished(const QString &videoPath, qint64 framesKept, const QString &error);

private:
    struct Open
    {
        quint64 token = 0;    // distinguishes this attempt from earlier ones for the same path
        quint64 requestId = 0; // DetectionClient id once submitted
        bool saving = false;   // the answer is in; only the files are still being written
        PreparedImage prepared; // what was sent (payload released once submitted)
        bool drawLocally = false;
        bool reading = true; // the file is being read and prepared
    };
    enum class ServerKind { Unknown, Asking, V2, Legacy };

    void pump();
    void pullFrames(int openLimit); // frames of running videos join the queue while it is short
    void startRead(const QString &path);
    void readFinished(const QString &path, quint64 token, PreparedImage prepared, const QString &error,
                      const QSize &thumbnailBox);
    void askServer();
    void handleServerInfo(quint64 id, const QJsonObject &info, const QString &device);
    void infoSettled();
    void handleResult(quint64 id, const ClientResult &result);
    void handleFailure(quint64 id, const QString &reason, bool retryable);
    void saveFinished(const QString &path, quint64 token, const ClientResult &result, const QString &imagePath,
                      const QString &sidecarPath, const QString &error, bool drawnHere);
    void finish(const QString &path, bool ok, const QString &error = QString());
    void setItemStatus(const QString &path, GalleryItem::Status status, const QString &error = QString());
    void checkIdle();
    void thumbnailsMayBeNeeded(); // what the cache held for this queue may be loaded now

    GalleryModel *m_model;
    DetectionClient *m_client;
    QPointer<ThumbnailCache> m_thumbnails;
    DetectOptions m_options;
    OutputOptions m_output;
    TransferSettings m_transfer;
    ServerKind m_serverKind = ServerKind::Unknown;
    PoolModels m_served; // what each device serves: inputs to reduce for, notes on fallback markup
    int m_maxInFlight = 4;
    bool m_targetReady = false;
    bool m_paused = false;
    bool m_idleAnnounced = true;

    std::deque<QString> m_queue;           // paths waiting, in order
    std::vector<VideoFeed *> m_feeds;      // videos being sampled (children), in the order given
    QHash<QString, Open> m_open;           // reading, submitted or saving
    QHash<quint64, QString> m_pathOfRequest;
    quint64 m_nextToken = 1;

    int m_batchTotal = 0;
    int m_batchFinished = 0;
    QList<qint64> m_finishTimes; // ms on m_clock, recent completions for the rate
    QElapsedTimer m_clock;
    double m_lastRoundTripMs = 0;
    ResultSaver m_saver;
    int m_outageLimitMs = 60000;
    QElapsedTimer m_outageClock; // valid while nothing gets through
    int m_holdMs = 0;
    QTimer *m_holdTimer = nullptr;
};

} // namespace edgelens

#pragma once

// Feeds gallery items to a DetectionClient and records what comes back: the gallery's side of
// the one processing loop (ProcessingLoop, common/processing): item statuses and results in
// the gallery, thumbnails for its cache, result names (ResultSaver) and the signals of video
// groups. Reading, reducing, sending, drawing and saving, the server kind (v2 reduced copies
// or legacy files), the bound on open items and what a lost device does are the loop's.
//
// Every item that enters ends as done, failed (with a reason) or cancelled, never left queued.

#include "galleryitem.h"
#include "inputs/samplingrule.h"
#include "processing/processingloop.h"
#include "protocol/detection.h"
#include "resultsaver.h"
#include "videosampling.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>


namespace edgelens {

class DetectionClient;
class GalleryModel;
class ThumbnailCache;

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
    DetectOptions detectOptions() const { return m_loop.detectOptions(); }
    void setOutputOptions(const OutputOptions &options);
    OutputOptions outputOptions() const { return m_output; }
    void setTransferSettings(const TransferSettings &settings);
    TransferSettings transferSettings() const { return m_transfer; }
    void setMaxInFlight(int count);
    int maxInFlight() const { return m_maxInFlight; }

    // Items wait while the target is not ready (e.g. the embedded server is starting).
    void setTargetReady(bool ready);
    bool isTargetReady() const { return m_loop.isReady(); }

    void enqueue(const QStringList &canonicalPaths); // items must be in the model

    // Samples a video with rule and queues its frames as they are extracted: each frame is
    // written to the frames folder of the video's output folder ("<stem>_f<index>.jpg") and
    // becomes a gallery row whose origin names the video, frame index and timestamp (the row
    // is added here, then videoFrameAdded). Frames are extracted only a few ahead of the work
    // (also while paused), so a long video costs no memory. False with *error when the file
    // cannot be opened as a video; otherwise videoStarted now and videoFinished at the end.
    // resumeAfterIndex continues a run the app quit in the middle of (VideoSampling): the
    // frames up to it are already in the gallery and are not extracted again.
    bool enqueueVideo(const QString &videoPath, const SamplingRule &rule, QString *error = nullptr,
                      qint64 resumeAfterIndex = -1);
    // The videos still being sampled, each with the last frame index the gallery got, for
    // the session to continue them after a restart.
    VideoSamplings videosInProgress() const;
    // The frames a rule will give a video, before running it; -1 when unknown (scene changes).
    static qint64 estimateFrames(const QString &videoPath, const SamplingRule &rule, QString *error = nullptr);
    int videosRunning() const { return m_loop.feedCount(); }
    void pause();
    void resume();
    bool isPaused() const { return m_loop.isPaused(); }
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
    // fail the whole queue at once (OutagePolicy): failed requests go back to the front and are
    // sent again as the client reconnects, and only when nothing has got through for this long
    // do the remaining images fail with the reason. Default 60 s.
    void setOutageLimit(int milliseconds) { m_loop.outagePolicy().setLimit(milliseconds); }
    int outageLimit() const { return m_loop.outagePolicy().limit(); }
    bool isHolding() const { return m_loop.isHolding(); } // in an outage, items wait to go again

    // Progress of the current batch (resets when the queue runs empty and new work comes).
    int batchTotal() const { return m_loop.batchTotal(); }
    int batchFinished() const { return m_loop.batchFinished(); }
    double imagesPerSecond() const { return m_loop.itemsPerSecond(); } // over the last few seconds
    qint64 estimatedRemainingMs() const { return m_loop.estimatedRemainingMs(); } // -1 while unknown
    double lastRoundTripMs() const { return m_loop.lastRoundTripMs(); }

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
    void syncSettings();
    SavePlan planSave(const ScannedImage &image, const ClientResult &result);
    bool admitFrame(ScannedImage &frame);
    void itemFinishedInLoop(const QString &path, const ItemOutcome &outcome);
    void setItemStatus(const QString &path, GalleryItem::Status status, const QString &error = QString());
    void thumbnailsMayBeNeeded(); // what the cache held for this queue may be loaded now

    GalleryModel *m_model;
    DetectionClient *m_client;
    QPointer<ThumbnailCache> m_thumbnails;
    OutputOptions m_output;
    TransferSettings m_transfer;
    int m_maxInFlight = 4;
    ResultSaver m_saver;
    QHash<QString, VideoSampling> m_videos; // by path: sampling, not finished
    ProcessingLoop m_loop; // last: its signals reach the members above
};

} // namespace edgelens

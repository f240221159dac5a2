#pragma once

#include "client/clientresult.h"
#include "client/poolmodels.h"
#include "imaging/imagetransfer.h"
#include "inputs/imagescanner.h"
#include "processing/outagepolicy.h"
#include "protocol/detection.h"

#include <QElapsedTimer>
#include <QHash>
#include <QImage>
#include <QList>
#include <QObject>
#include <QSize>
#include <QString>
#include <QTimer>

#include <opencv2/core/mat.hpp>

#include <deque>
#include <functional>
#include <vector>

namespace edgelens {

class DetectionClient;
class VideoFeed;

// What became of one item that went into a ProcessingLoop.
struct ItemOutcome
{
    enum class Kind { Done, Failed, Cancelled };
    Kind kind = Kind::Failed;
    QString error;          // Failed: why; Cancelled: "cancelled"
    bool answered = false;  // result holds the device's answer (also when it could not be saved)
    bool refused = false;   // SavePlan::refusal: nothing was written on purpose
    ClientResult result;    // boxes and size in the original's pixels
    QString imagePath;      // the files written; empty when not
    QString sidecarPath;
    bool drawnHere = false; // the marked-up JPEG was drawn here on the original
    QImage resultThumbnail; // of the drawn result, when Settings::thumbnailBox asked for one
    bool ok() const { return kind == Kind::Done; }
};

// Where an answer goes. The adapter makes it on the loop's thread when the answer arrives
// (its bookkeeping of output names lives there); the loop runs write() on a worker thread.
struct SavePlan
{
    struct Written
    {
        QString imagePath;
        QString sidecarPath;
        QString error;
    };
    QString refusal; // not empty: nothing is written, the item fails with this (answer kept)
    // The boxes the result image shows (in the original's pixels); empty: every detection.
    std::function<QList<Detection>(const DetectionResult &)> boxesToDraw;
    std::function<Written(const ClientResult &)> write;
};

// The one read -> prepare -> submit -> draw -> save loop of EdgeLens, for the app's queue and
// the CLI alike (they adapt it: gallery statuses and thumbnails, or printing and exit codes).
//
// - Bounded: only settings().window items are read or in flight at once and as many more may
//   be saving; the rest wait as paths (or, for frames, come from VideoFeeds only when the
//   queue is short), so 10,000 queued images or a two-hour video cost nothing until their turn.
// - A video's frames come with their decoded pixels (VideoFeed): the copy sent and the canvas
//   the result is drawn on are made from them (ImageTransfer::prepareFromPixels), the frame
//   file written beside is not read and decoded again. Only kFramesWaiting frames hold pixels
//   in the feed and as many in the queue; a frame sent again after an outage reads its file.
// - The server kind is asked first (server-info of every device): a v2 server gets reduced
//   copies sized for the model (ImageTransfer, on worker threads), answers detections only and
//   the result is drawn here on the original; a legacy server gets the file and its marked-up
//   JPEG is saved as it came.
// - Every item that enters ends with one ItemOutcome: done, failed with a reason, or cancelled.
//   A lost device is OutagePolicy's business: retryable failures go back to the front while the
//   outage is younger than its limit; the channels' own backoff paces the next try.
//
// Lives in the thread of the DetectionClient; heavy work runs on the global thread pool.
class ProcessingLoop final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProcessingLoop)

public:
    enum class ServerKind { Unknown, Asking, V2, Legacy };
    static constexpr int kFramesWaiting = 2; // frames with pixels (1080p: 6 MB each) per feed, and queued

    struct Settings
    {
        int window = 8;                 // items read or in flight at once (as many more may be saving)
        bool sendOriginalFiles = false; // never reduce: send each file as it is
        int resultMaxSide = 2048;       // results drawn here fit within this; 0: original size
        int prepareJpegQuality = 90;    // of the reduced copies sent
        QSize thumbnailBox;             // not empty: thumbnails of the originals and of drawn results
    };

    using SavePlanner = std::function<SavePlan(const ScannedImage &image, const ClientResult &result)>;

    explicit ProcessingLoop(DetectionClient *client, QObject *parent = nullptr);
    ~ProcessingLoop() override;

    void setSettings(const Settings &settings);
    const Settings &settings() const { return m_settings; }
    void setDetectOptions(const DetectOptions &options) { m_options = options; }
    const DetectOptions &detectOptions() const { return m_options; }
    void setSavePlanner(SavePlanner planner) { m_planner = std::move(planner); }
    // Asked when a queued item's turn comes; false drops it without an outcome (it left the
    // gallery meanwhile). Unset: every item is wanted.
    void setStillWanted(std::function<bool(const QString &path)> wanted) { m_stillWanted = std::move(wanted); }
    // Asked for each frame a feed hands out before it joins the queue; may rewrite the frame
    // (its canonical path); false skips it. Unset: every frame joins.
    void setFrameAdmission(std::function<bool(ScannedImage &frame)> admit) { m_admitFrame = std::move(admit); }

    // Nothing is sent while not ready (e.g. the embedded server is starting). Becoming ready
    // forgets what the server said: whoever is there now may serve another model.
    void setReady(bool ready);
    bool isReady() const { return m_ready; }

    void enqueue(const QList<ScannedImage> &items); // items already queued or open are left as they are
    // A running video's frames join the queue as they come, while it is short (frames are
    // extracted a few ahead, so a long video costs no memory). The loop owns the feed from
    // now on and deletes it after feedFinished. Feeds are drawn from in the order added.
    void addFeed(VideoFeed *feed);
    int feedCount() const { return int(m_feeds.size()); }

    void pause();
    void resume();
    bool isPaused() const { return m_paused; }
    int cancel();                           // queued and open items end Cancelled, feeds stop; how many items
    int failQueued(const QString &reason);  // queued (not open) items fail with reason; how many
    // Items being read or waiting for an answer go back to the front (the target is about to be
    // replaced on purpose); their late answers are ignored. How many.
    int requeueOpen();
    bool isBusy() const; // anything queued, open or still coming from a feed

    bool contains(const QString &path) const; // queued or open
    bool isReading(const QString &path) const;
    bool isQueuedWithin(const QString &path, int first) const; // among the first `first` queued

    OutagePolicy &outagePolicy() { return m_outage; }
    const OutagePolicy &outagePolicy() const { return m_outage; }
    bool isHolding() const { return m_outage.inOutage(); } // in an outage, items wait to go again
    ServerKind serverKind() const { return m_serverKind; }
    const PoolModels &served() const { return m_served; }

    // Progress of the current batch (resets when the loop runs empty and new work comes).
    int batchTotal() const { return m_batchTotal; }
    int batchFinished() const { return m_batchFinished; }
    double itemsPerSecond() const;        // over the last few seconds
    qint64 estimatedRemainingMs() const;  // -1 while unknown
    double lastRoundTripMs() const { return m_lastRoundTripMs; }

Q_SIGNALS:
    void itemQueued(const QString &path);    // waiting (enqueue, a frame, back after an outage)
    void itemStarted(const QString &path);   // being read and prepared
    void itemSubmitted(const QString &path); // sent; waiting for the answer
    void itemFinished(const QString &path, const edgelens::ItemOutcome &outcome);
    void itemRetrying(const QString &path, int attempt, const QString &reason); // the client re-sends
    void originalThumbnail(const QString &path, const QImage &thumbnail, const QSize &box);
    void frameQueued(edgelens::VideoFeed *feed, const edgelens::ScannedImage &frame);
    // A feed is drained (error empty: complete) or was cancelled ("cancelled"); deleted later.
    void feedFinished(edgelens::VideoFeed *feed, const QString &error);
    void serversDescribed(); // every device answered server-info (or could not)
    void outageChanged(bool lost, const QString &reason);
    void openChanged(); // what is read next changed (the app's thumbnail provider asks again)
    void progressChanged();
    void idle(); // nothing queued, open or coming any more (once per busy -> idle)

private:
    struct Item
    {
        ScannedImage image;
        cv::Mat pixels;       // a video frame's decoded pixels until it is prepared; empty: read the file
        quint64 order = 0;    // enqueue order: requeued items keep their place among themselves
        int strikes = 0;      // failures while others got through (OutagePolicy)
        qint64 notBefore = 0; // on m_clock: a re-send waits until then
    };
    struct Open
    {
        Item item;
        quint64 token = 0;     // this attempt; late results of earlier ones are ignored
        quint64 requestId = 0; // while in flight
        bool reading = true;
        bool saving = false;
        bool drawLocally = false;
        PreparedImage prepared; // what was sent (payload released once submitted)
        quint64 answersAtSend = 0;
        qint64 sentAt = 0;
    };

    void pump();
    void pullFrames();
    int framesWaiting() const; // queued frames that hold their pixels
    void push(Item item, bool front);
    void askServer();
    void handleServerInfo(quint64 id, const QJsonObject &info, const QString &device);
    void infoSettled();
    void startRead(Item item);
    void readFinished(const QString &path, quint64 token, PreparedImage prepared);
    void handleResult(quint64 id, const ClientResult &result);
    void handleFailure(quint64 id, const QString &reason, bool retryable);
    void saveFinished(const QString &path, quint64 token, ItemOutcome outcome);
    void finishItem(const QString &path, ItemOutcome outcome);
    void fail(const QString &path, const QString &reason);
    int active() const; // open and not saving
    void checkIdle();

    DetectionClient *m_client;
    Settings m_settings;
    DetectOptions m_options;
    SavePlanner m_planner;
    std::function<bool(const QString &)> m_stillWanted;
    std::function<bool(ScannedImage &)> m_admitFrame;
    ServerKind m_serverKind = ServerKind::Unknown;
    PoolModels m_served;
    bool m_describedAnnounced = false;
    bool m_ready = false;
    bool m_paused = false;
    bool m_idleAnnounced = true;

    std::deque<Item> m_queue;
    std::vector<VideoFeed *> m_feeds;
    QHash<QString, Open> m_open;
    QHash<quint64, QString> m_pathOfRequest;
    int m_saving = 0;
    quint64 m_nextToken = 1;
    quint64 m_nextOrder = 1;
    quint64 m_answers = 0;

    OutagePolicy m_outage;
    QTimer m_resendTimer;

    int m_batchTotal = 0;
    int m_batchFinished = 0;
    QList<qint64> m_finishTimes; // ms on m_clock
    QElapsedTimer m_clock;
    double m_lastRoundTripMs = 0;
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::ItemOutcome)

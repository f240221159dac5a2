#pragma once

#include "inputs/frameextractor.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <deque>
#include <memory>

namespace edgelens {

// A video's sampled frames for an event-driven consumer (the CLI's loop, the app's queue):
// runs a FrameExtractor on the thread pool, one frame at a time, and stays at most
// lookAhead() frames ahead of what was taken, so a two-hour video never fills memory or the
// disk faster than frames are processed. Lives in the thread that uses it (signals come there).
//
//   VideoFeed feed(video, options);
//   if (!feed.open(&error)) ...;            // properties() and estimatedCount() known now
//   connect(&feed, &VideoFeed::frameReady, ...);  // takeFrame() while hasFrame()
//   connect(&feed, &VideoFeed::finished, ...);    // ok, or the error (truncated file...)
//   feed.start();
class VideoFeed final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(VideoFeed)

public:
    VideoFeed(const ScannedImage &video, const FrameExtractor::Options &options, QObject *parent = nullptr);
    ~VideoFeed() override; // waits for the frame being extracted (one frame: bounded)

    bool open(QString *error);
    SourceProperties properties() const;
    qint64 estimatedCount() const; // -1: unknown before running (scene changes)
    const ScannedImage &video() const;

    void setLookAhead(int frames) { m_lookAhead = qMax(1, frames); }
    int lookAhead() const { return m_lookAhead; }

    void start();
    bool hasFrame() const { return !m_ready.empty(); }
    // The oldest extracted frame; extraction goes on behind it. *pixels (when given) gets its
    // decoded BGR pixels (the frame file's content before JPEG), so the consumer need not read
    // and decode the file again; without it they are dropped here.
    ScannedImage takeFrame(cv::Mat *pixels = nullptr);
    // Stops after the frame being extracted; frames not taken stay on disk. finished() follows.
    void cancel();

    bool isFinished() const { return m_finished; }
    // Everything extracted was taken and nothing more will come.
    bool isDrained() const { return m_finished && m_ready.empty(); }
    QString error() const { return m_error; }
    bool variableFrameRate() const { return m_variable; }
    qint64 framesKept() const { return m_kept; } // FrameExtractor::framesKept(): a resumed run's earlier frames too
    qint64 framesDecoded() const { return m_decoded; }

signals:
    void frameReady();
    void variableFrameRateFound(); // once, when the frame durations are first seen to differ
    void finished(bool ok, const QString &error);

private:
    struct Step
    {
        FrameExtractor::Step step = FrameExtractor::Step::End;
        ScannedImage frame;
        cv::Mat pixels;
        QString error;
        bool variable = false;
        qint64 decoded = 0;
        qint64 kept = 0;
    };
    void extractMore();
    void stepFinished();
    void finish(bool ok, const QString &error);

    std::shared_ptr<FrameExtractor> m_extractor; // shared with the task running on the pool
    QFutureWatcher<Step> m_watcher;
    struct Ready
    {
        ScannedImage frame;
        cv::Mat pixels;
    };
    std::deque<Ready> m_ready; // at most lookAhead() frames, pixels included
    int m_lookAhead = 8;
    bool m_running = false;
    bool m_started = false;
    bool m_cancelled = false;
    bool m_finished = false;
    bool m_variable = false;
    QString m_error;
    qint64 m_kept = 0;
    qint64 m_decoded = 0;
};

} // namespace edgelens

#include "videofeed.h"

#include <QLoggingCategory>
#include <QtConcurrent/QtConcurrentRun>
#include <QtConcurrent/qtconcurrenttask.h>

Q_LOGGING_CATEGORY(lcVideoFeed, "edgelens.inputs.videofeed", QtInfoMsg)

namespace edgelens {

VideoFeed::VideoFeed(const ScannedImage &video, const FrameExtractor::Options &options, QObject *parent)
    : QObject(parent)
    , m_extractor(std::make_shared<FrameExtractor>(video, options))
{
    connect(&m_watcher, &QFutureWatcher<Step>::finished, this, &VideoFeed::stepFinished);
}

VideoFeed::~VideoFeed()
{
    m_cancelled = true;
    m_watcher.disconnect(this);
    // Only a step still running is waited for: a finished one's result was taken (its pixels
    // moved out), and a future whose result was taken is not waited on again.
    if (m_running)
        m_watcher.waitForFinished();
}

bool VideoFeed::open(QString *error)
{
    return m_extractor->open(error);
}

SourceProperties VideoFeed::properties() const
{
    return m_extractor->properties();
}

qint64 VideoFeed::estimatedCount() const
{
    return m_extractor->estimatedCount();
}

const ScannedImage &VideoFeed::video() const
{
    return m_extractor->video();
}

void VideoFeed::start()
{
    if (m_started)
        return;
    m_started = true;
    extractMore();
}

ScannedImage VideoFeed::takeFrame(cv::Mat *pixels)
{
    if (m_ready.empty())
        return {};
    Ready ready = std::move(m_ready.front());
    m_ready.pop_front();
    if (pixels)
        *pixels = std::move(ready.pixels);
    extractMore();
    return std::move(ready.frame);
}

void VideoFeed::cancel()
{
    if (m_finished)
        return;
    m_cancelled = true;
    if (!m_running)
        finish(true, QString());
}

void VideoFeed::extractMore()
{
    if (!m_started || m_running || m_finished || m_cancelled || int(m_ready.size()) >= m_lookAhead)
        return;
    m_running = true;
    // The extractor is shared so a task still running when the feed goes away has its object.
    // Decoding is the one step of a video that cannot run in parallel: it goes ahead of the
    // pool's other work (reads at priority 1, drawing and writing at 0), so the frames that
    // feed everything else never wait behind it.
    m_watcher.setFuture(QtConcurrent::task([extractor = m_extractor] {
                            Step out;
                            out.step = extractor->next(&out.frame, &out.error, &out.pixels);
                            out.variable = extractor->variableFrameRate();
                            out.decoded = extractor->framesDecoded();
                            out.kept = extractor->framesKept();
                            return out;
                        })
                            .withPriority(2)
                            .spawn());
}

void VideoFeed::stepFinished()
{
    m_running = false;
    Step out = m_watcher.future().takeResult(); // moved: the watcher keeps no copy of the pixels
    m_decoded = out.decoded;
    m_kept = out.kept;
    if (out.variable && !m_variable) {
        m_variable = true;
        emit variableFrameRateFound();
    }
    switch (out.step) {
    case FrameExtractor::Step::Frame:
        m_ready.push_back(Ready{std::move(out.frame), std::move(out.pixels)});
        if (m_cancelled) {
            finish(true, QString());
            emit frameReady();
            return;
        }
        extractMore();
        emit frameReady();
        return;
    case FrameExtractor::Step::End:
        finish(true, QString());
        return;
    case FrameExtractor::Step::Error:
        qCWarning(lcVideoFeed).noquote() << out.error;
        finish(false, out.error);
        return;
    }
}

void VideoFeed::finish(bool ok, const QString &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_error = error;
    emit finished(ok, error);
}

} // namespace edgelens

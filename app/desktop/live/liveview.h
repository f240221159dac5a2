#pragma once

#include "live/livepipeline.h"

#include <QImage>
#include <QString>
#include <QWidget>

namespace edgelens {

// Paints the newest live result: the frame scaled to fit, its boxes in the markup colours, and
// the figures as an overlay (resolution and fps, decoded, detections/s, dropped, latency p50/p95,
// the device's time per frame; the boxes' age when they come from an earlier frame; the
// source's state while it is not live).
class LiveView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveView)

public:
    explicit LiveView(QWidget *parent = nullptr);
    ~LiveView() override;

    void showResult(const LiveResult &result);
    void setFigures(const LiveFigures &figures);
    void setState(const QString &state); // "reconnecting: ...", empty while live
    const LiveResult &current() const { return m_result; }
    QString overlayText() const;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    LiveResult m_result;
    QImage m_image; // wraps m_result.frame.image (BGR), no copy
    LiveFigures m_figures;
    QString m_state;
};

} // namespace edgelens

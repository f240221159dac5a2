#pragma once

#include "live/capturerule.h"
#include "live/livepipeline.h"
#include "live/streamsource.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace edgelens {

class DetectionClient;
class LiveView;

// The live view: a source through the app's own client (so the same target: the embedded
// server, a device or the pool, with its token and trust), the frames with their boxes and the
// figures (also sent to the main window's status bar), Snapshot (S, or the button) and the
// optional capture rule. A kept frame is written as a JPEG original (SnapshotWriter) and
// handed to the gallery, which detects, shows, lets a person correct and exports it like any
// photo; its results go to the output folder as a photo's do.
class LiveWindow final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveWindow)

public:
    LiveWindow(DetectionClient *client, const StreamSpec &spec, const QString &snapshotFolder,
               QWidget *parent = nullptr);
    ~LiveWindow() override; // stops the pipeline, then the source's thread

    void start();
    // Keeps the frame on screen; its path, or empty (the reason is shown).
    QString snapshot();
    void setNewestFrame(bool newest);
    void setCaptureRule(bool enabled, const QStringList &labels, int intervalSeconds);
    const CaptureRule &captureRule() const { return m_rule; }

    StreamSource *source() const { return m_source.get(); }
    LivePipeline *pipeline() const { return m_pipeline.get(); }
    LiveView *view() const { return m_view; }
    QString statusText() const;

Q_SIGNALS:
    // A snapshot or a capture, written; for the gallery, with where it came from (a live frame
    // of the masked source: its index, time, and what kept it), which its sidecar records.
    void frameKept(const QString &path, const edgelens::ImageOrigin &origin);
    void statusChanged(const QString &text);

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    void buildPipeline(LivePipeline::Display display);
    void handleResult(const LiveResult &result);
    QString keep(const LiveResult &result, const QString &kind, const QString &chosenBy);
    void applyRuleControls();

    DetectionClient *m_client;
    const QString m_snapshotFolder;
    std::unique_ptr<StreamSource> m_source;
    std::unique_ptr<LivePipeline> m_pipeline;
    CaptureRule m_rule;
    LiveView *m_view = nullptr;
    QPushButton *m_snapshotButton = nullptr;
    QCheckBox *m_newest = nullptr;
    QCheckBox *m_captureEnabled = nullptr;
    QLineEdit *m_captureLabels = nullptr;
    QSpinBox *m_captureInterval = nullptr;
    QLabel *m_status = nullptr;
    QString m_stateText; // empty while live
};

} // namespace edgelens

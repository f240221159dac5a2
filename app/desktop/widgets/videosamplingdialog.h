#pragma once

// Asked once per video before it runs: which frames to keep (every N frames, one every T
// seconds, or scene changes only), optionally within a time range, with the number of frames
// the choice gives shown as it changes. The video's properties were probed beforehand (off
// the GUI thread), so changing a value only recounts.

#include "inputs/framesource.h"
#include "inputs/samplingrule.h"

#include <QDialog>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace edgelens {

class VideoSamplingDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(VideoSamplingDialog)

public:
    // remaining: videos still waiting after this one (offers "the same for the others").
    VideoSamplingDialog(const QString &videoPath, const SourceProperties &properties, const SamplingRule &initial,
                        int remaining, QWidget *parent = nullptr);

    SamplingRule rule() const;
    bool applyToRemaining() const; // the same rule for the videos still waiting
    qint64 estimatedCount() const { return rule().estimatedCount(m_properties); }
    QString countText() const;     // "About 60 frames", as shown

private:
    void updateCount();

    SourceProperties m_properties;
    QRadioButton *m_everyFrames = nullptr;
    QRadioButton *m_everySeconds = nullptr;
    QRadioButton *m_sceneChanges = nullptr;
    QSpinBox *m_frames = nullptr;
    QDoubleSpinBox *m_seconds = nullptr;
    QDoubleSpinBox *m_sceneThreshold = nullptr;
    QCheckBox *m_range = nullptr;
    QDoubleSpinBox *m_from = nullptr;
    QDoubleSpinBox *m_to = nullptr;
    QLabel *m_count = nullptr;
    QLabel *m_error = nullptr;
    QCheckBox *m_forRemaining = nullptr;
    QPushButton *m_okButton = nullptr;
};

} // namespace edgelens

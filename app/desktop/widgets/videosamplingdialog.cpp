#include "widgets/videosamplingdialog.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace edgelens {

namespace {

QString describe(const SourceProperties &p)
{
    QStringList parts;
    if (!p.size.isEmpty())
        parts << QStringLiteral("%1\u00d7%2").arg(p.size.width()).arg(p.size.height());
    if (p.fps > 0)
        parts << VideoSamplingDialog::tr("%1 fps").arg(p.fps, 0, 'f', 2);
    if (p.durationMs > 0)
        parts << VideoSamplingDialog::tr("%1 s").arg(p.durationMs / 1000.0, 0, 'f', 1);
    if (p.frameCount > 0)
        parts << VideoSamplingDialog::tr("%n frame(s)", nullptr, int(p.frameCount));
    if (!p.codec.isEmpty())
        parts << p.codec;
    return parts.join(QStringLiteral(", "));
}

QDoubleSpinBox *secondsBox(double max, QWidget *parent)
{
    auto *box = new QDoubleSpinBox(parent);
    box->setDecimals(2);
    box->setRange(0, qMax(max, 0.01));
    box->setSuffix(VideoSamplingDialog::tr(" s"));
    return box;
}

} // namespace

VideoSamplingDialog::VideoSamplingDialog(const QString &videoPath, const SourceProperties &properties,
                                         const SamplingRule &initial, int remaining, QWidget *parent)
    : QDialog(parent)
    , m_properties(properties)
{
    setWindowTitle(tr("Sample %1").arg(QFileInfo(videoPath).fileName()));
    const double durationS = properties.durationMs > 0 ? properties.durationMs / 1000.0 : 24 * 3600.0;

    m_everyFrames = new QRadioButton(tr("Every"), this);
    m_everySeconds = new QRadioButton(tr("One frame every"), this);
    m_sceneChanges = new QRadioButton(tr("Scene changes only: mean difference above"), this);
    m_everyFrames->setObjectName(QStringLiteral("everyFrames"));
    m_everySeconds->setObjectName(QStringLiteral("everySeconds"));
    m_sceneChanges->setObjectName(QStringLiteral("sceneChanges"));
    auto *modes = new QButtonGroup(this);
    for (QRadioButton *b : {m_everyFrames, m_everySeconds, m_sceneChanges})
        modes->addButton(b);
    m_frames = new QSpinBox(this);
    m_frames->setObjectName(QStringLiteral("frames"));
    m_frames->setRange(1, 100000);
    m_frames->setSuffix(tr(" frames"));
    m_frames->setValue(initial.everyFrames);
    m_seconds = new QDoubleSpinBox(this);
    m_seconds->setObjectName(QStringLiteral("seconds"));
    m_seconds->setDecimals(2);
    m_seconds->setRange(0.01, 3600);
    m_seconds->setSuffix(tr(" s"));
    m_seconds->setValue(initial.everySeconds);
    m_sceneThreshold = new QDoubleSpinBox(this);
    m_sceneThreshold->setRange(1, 255);
    m_sceneThreshold->setDecimals(1);
    m_sceneThreshold->setValue(initial.sceneThreshold);
    m_sceneThreshold->setToolTip(tr("Mean absolute difference of two consecutive frames reduced to 64\u00d736 grey "
                                    "pixels, in grey levels: a cut between shots is 30 or more, motion within a "
                                    "shot rarely above 10"));
    auto *grid = new QGridLayout;
    grid->addWidget(m_everyFrames, 0, 0);
    grid->addWidget(m_frames, 0, 1);
    grid->addWidget(m_everySeconds, 1, 0);
    grid->addWidget(m_seconds, 1, 1);
    grid->addWidget(m_sceneChanges, 2, 0);
    grid->addWidget(m_sceneThreshold, 2, 1);

    m_range = new QCheckBox(tr("Only from"), this);
    m_range->setObjectName(QStringLiteral("timeRange"));
    m_from = secondsBox(durationS, this);
    m_to = secondsBox(durationS, this);
    m_from->setObjectName(QStringLiteral("from"));
    m_to->setObjectName(QStringLiteral("to"));
    m_range->setChecked(initial.startMs > 0 || initial.endMs >= 0);
    m_from->setValue(initial.startMs / 1000.0);
    m_to->setValue(initial.endMs >= 0 ? initial.endMs / 1000.0 : durationS);
    auto *range = new QHBoxLayout;
    range->addWidget(m_range);
    range->addWidget(m_from);
    range->addWidget(new QLabel(tr("to"), this));
    range->addWidget(m_to);
    range->addStretch(1);

    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("frameCount"));
    QFont bold = m_count->font();
    bold.setBold(true);
    m_count->setFont(bold);
    m_error = new QLabel(this);
    m_error->setStyleSheet(QStringLiteral("color: #c0392b;"));
    m_error->hide();
    m_forRemaining = new QCheckBox(tr("The same for the %n other video(s) waiting", nullptr, remaining), this);
    m_forRemaining->setVisible(remaining > 0);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Sample"));
    buttons->button(QDialogButtonBox::Cancel)->setText(tr("Skip This Video"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    auto *info = new QLabel(QStringLiteral("<b>%1</b><br>%2").arg(QFileInfo(videoPath).fileName().toHtmlEscaped(),
                                                                   describe(properties).toHtmlEscaped()),
                            this);
    layout->addWidget(info);
    layout->addLayout(grid);
    layout->addLayout(range);
    layout->addWidget(m_count);
    layout->addWidget(m_error);
    layout->addWidget(m_forRemaining);
    layout->addWidget(buttons);

    switch (initial.mode) {
    case SamplingRule::Mode::EveryNFrames:
        m_everyFrames->setChecked(true);
        break;
    case SamplingRule::Mode::EverySeconds:
        m_everySeconds->setChecked(true);
        break;
    case SamplingRule::Mode::SceneChanges:
        m_sceneChanges->setChecked(true);
        break;
    }
    for (QRadioButton *b : {m_everyFrames, m_everySeconds, m_sceneChanges})
        connect(b, &QRadioButton::toggled, this, &VideoSamplingDialog::updateCount);
    connect(m_frames, &QSpinBox::valueChanged, this, &VideoSamplingDialog::updateCount);
    for (QDoubleSpinBox *box : {m_seconds, m_sceneThreshold, m_from, m_to})
        connect(box, &QDoubleSpinBox::valueChanged, this, &VideoSamplingDialog::updateCount);
    connect(m_range, &QCheckBox::toggled, this, &VideoSamplingDialog::updateCount);
    m_okButton = buttons->button(QDialogButtonBox::Ok);
    updateCount();
}

SamplingRule VideoSamplingDialog::rule() const
{
    SamplingRule rule;
    rule.mode = m_everyFrames->isChecked() ? SamplingRule::Mode::EveryNFrames
        : m_sceneChanges->isChecked()      ? SamplingRule::Mode::SceneChanges
                                           : SamplingRule::Mode::EverySeconds;
    rule.everyFrames = m_frames->value();
    rule.everySeconds = m_seconds->value();
    rule.sceneThreshold = m_sceneThreshold->value();
    if (m_range->isChecked()) {
        rule.startMs = m_from->value() * 1000.0;
        rule.endMs = m_to->value() * 1000.0;
    }
    return rule;
}

bool VideoSamplingDialog::applyToRemaining() const
{
    return m_forRemaining->isVisible() && m_forRemaining->isChecked();
}

QString VideoSamplingDialog::countText() const
{
    return m_count->text();
}

void VideoSamplingDialog::updateCount()
{
    m_frames->setEnabled(m_everyFrames->isChecked());
    m_seconds->setEnabled(m_everySeconds->isChecked());
    m_sceneThreshold->setEnabled(m_sceneChanges->isChecked());
    m_from->setEnabled(m_range->isChecked());
    m_to->setEnabled(m_range->isChecked());
    const SamplingRule r = rule();
    QString error;
    const bool valid = r.isValid(&error);
    m_error->setText(error);
    m_error->setVisible(!valid);
    m_okButton->setEnabled(valid);
    const qint64 n = r.estimatedCount(m_properties);
    if (r.mode == SamplingRule::Mode::SceneChanges)
        m_count->setText(tr("The number of frames is known only once the video is decoded (one per scene)."));
    else if (n < 0)
        m_count->setText(tr("The video does not say how long it is: the number of frames is known at the end."));
    else if (r.mode == SamplingRule::Mode::EveryNFrames && m_properties.frameCount > 0)
        m_count->setText(tr("%n frame(s) will be extracted and sent.", nullptr, int(n)));
    else
        m_count->setText(tr("About %n frame(s) will be extracted and sent.", nullptr, int(n)));
}

} // namespace edgelens

#include "livewindow.h"

#include "client/detectionclient.h"
#include "live/liveview.h"
#include "live/snapshotwriter.h"

#include <QCheckBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

Q_LOGGING_CATEGORY(lcLiveWindow, "edgelens.app.live")

namespace edgelens {

LiveWindow::LiveWindow(DetectionClient *client, const StreamSpec &spec, const QString &snapshotFolder, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_client(client)
    , m_snapshotFolder(snapshotFolder)
    , m_source(std::make_unique<StreamSource>(spec))
{
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowTitle(tr("EdgeLens Live — %1").arg(spec.display())); // masked: never the credentials
    m_view = new LiveView(this);

    m_snapshotButton = new QPushButton(tr("&Snapshot"), this);
    m_snapshotButton->setToolTip(tr("Keep this frame and its detections in the gallery (S)"));
    connect(m_snapshotButton, &QPushButton::clicked, this, [this] { snapshot(); });
    m_newest = new QCheckBox(tr("&Newest frame"), this);
    m_newest->setToolTip(tr("Show every frame at once with the newest boxes and their age, instead of each "
                            "detected frame with its own boxes"));
    connect(m_newest, &QCheckBox::toggled, this, &LiveWindow::setNewestFrame);
    m_captureEnabled = new QCheckBox(tr("&Keep frames with"), this);
    m_captureLabels = new QLineEdit(this);
    m_captureLabels->setPlaceholderText(tr("person, dog (empty: any)"));
    m_captureInterval = new QSpinBox(this);
    m_captureInterval->setRange(1, 3600);
    m_captureInterval->setValue(10);
    m_captureInterval->setPrefix(tr("at most one every "));
    m_captureInterval->setSuffix(tr(" s"));
    connect(m_captureEnabled, &QCheckBox::toggled, this, &LiveWindow::applyRuleControls);
    connect(m_captureLabels, &QLineEdit::editingFinished, this, &LiveWindow::applyRuleControls);
    connect(m_captureInterval, &QSpinBox::valueChanged, this, &LiveWindow::applyRuleControls);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_snapshotButton);
    controls->addWidget(m_newest);
    controls->addSpacing(16);
    controls->addWidget(m_captureEnabled);
    controls->addWidget(m_captureLabels, 1);
    controls->addWidget(m_captureInterval);
    m_status = new QLabel(this);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_view, 1);
    layout->addLayout(controls);
    layout->addWidget(m_status);
    resize(960, 640);

    connect(m_source.get(), &StreamSource::stateChanged, this, [this](StreamSource::State state, const QString &why) {
        m_stateText = state == StreamSource::State::Live
            ? QString()
            : StreamSource::stateName(state) + QStringLiteral(": ") + why;
        m_view->setState(m_stateText);
        Q_EMIT statusChanged(statusText());
    });
    buildPipeline(LivePipeline::Display::DetectedFrame);
}

LiveWindow::~LiveWindow()
{
    m_pipeline.reset();
    m_source.reset();
}

void LiveWindow::buildPipeline(LivePipeline::Display display)
{
    const bool running = m_pipeline && m_pipeline->isRunning();
    m_pipeline.reset();
    LivePipeline::Options options;
    options.display = display;
    options.maxInFlight = 2 * std::max(1, int(m_client->devices().size()));
    options.immediate = std::max(1, int(m_client->devices().size()));
    m_pipeline = std::make_unique<LivePipeline>(m_client, m_source.get(), options);
    connect(m_pipeline.get(), &LivePipeline::frameReady, this, &LiveWindow::handleResult);
    connect(m_pipeline.get(), &LivePipeline::figuresChanged, this, [this](const LiveFigures &figures) {
        m_view->setFigures(figures);
        m_status->setText(figures.summaryLine());
        Q_EMIT statusChanged(statusText());
    });
    connect(m_pipeline.get(), &LivePipeline::requestProblem, this, [](const QString &why) {
        qCWarning(lcLiveWindow).noquote() << "live request failed:" << StreamSpec::maskCredentials(why);
    });
    if (running)
        m_pipeline->start();
}

void LiveWindow::start()
{
    m_pipeline->start();
}

void LiveWindow::setNewestFrame(bool newest)
{
    if (m_newest->isChecked() != newest)
        m_newest->setChecked(newest); // comes back here through toggled
    else
        buildPipeline(newest ? LivePipeline::Display::NewestFrame : LivePipeline::Display::DetectedFrame);
}

void LiveWindow::setCaptureRule(bool enabled, const QStringList &labels, int intervalSeconds)
{
    m_captureLabels->setText(labels.join(QStringLiteral(", ")));
    m_captureInterval->setValue(intervalSeconds);
    m_captureEnabled->setChecked(enabled);
    applyRuleControls();
}

void LiveWindow::applyRuleControls()
{
    m_rule.setEnabled(m_captureEnabled->isChecked());
    m_rule.setLabels(CaptureRule::parseLabels(m_captureLabels->text()));
    m_rule.setMinIntervalMs(qint64(m_captureInterval->value()) * 1000);
}

QString LiveWindow::statusText() const
{
    if (!m_stateText.isEmpty())
        return tr("Live: %1").arg(m_stateText);
    return tr("Live: %1").arg(m_status->text());
}

void LiveWindow::handleResult(const LiveResult &result)
{
    m_view->showResult(result);
    if (!result.detected)
        return;
    QStringList matched;
    if (m_rule.offer(result.detections, result.frame.arrivedMs, &matched)) {
        const QStringList labels = m_rule.labels();
        keep(result, QStringLiteral("capture-") + matched.join(QLatin1Char('+')),
             QStringLiteral("capture rule: %1, at most one every %2 s")
                 .arg(labels.isEmpty() ? QStringLiteral("any detection") : labels.join(QStringLiteral(", ")))
                 .arg(double(m_rule.minIntervalMs()) / 1000.0));
    }
}

QString LiveWindow::snapshot()
{
    return keep(m_view->current(), QStringLiteral("snapshot"), QStringLiteral("snapshot"));
}

QString LiveWindow::keep(const LiveResult &result, const QString &kind, const QString &chosenBy)
{
    QString error;
    const QString path = SnapshotWriter::write(result.frame.image, m_snapshotFolder, kind,
                                               QDateTime::fromMSecsSinceEpoch(result.frame.capturedMs), &error);
    if (path.isEmpty()) {
        m_status->setText(tr("Not kept: %1").arg(error));
        return {};
    }
    qCInfo(lcLiveWindow).noquote() << "kept frame" << result.frame.sequence << "as" << path;
    Q_EMIT frameKept(path, m_source->originOf(result.frame, chosenBy));
    return path;
}

void LiveWindow::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_S && event->modifiers() == Qt::NoModifier) {
        snapshot();
        return;
    }
    QWidget::keyPressEvent(event);
}

} // namespace edgelens

#include "openstreamdialog.h"

#include "live/recentstreams.h"
#include "widgets/errorlabel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace edgelens {

OpenStreamDialog::OpenStreamDialog(RecentStreams *recent, QWidget *parent)
    : QDialog(parent)
    , m_recent(recent)
{
    setWindowTitle(tr("Open Stream"));
    m_source = new QComboBox(this);
    m_source->setEditable(true);
    m_source->setInsertPolicy(QComboBox::NoInsert);
    m_source->setMinimumContentsLength(48);
    m_source->lineEdit()->setPlaceholderText(tr("rtsp://camera.local/stream, http://camera/video.mjpg, /dev/video0"));
    for (const QString &entry : m_recent->list())
        m_source->addItem(entry);
    for (const StreamSpec::Camera &camera : StreamSpec::listCameras()) {
        m_source->addItem(camera.device);
        m_source->setItemData(m_source->count() - 1, camera.name, Qt::ToolTipRole);
    }
    m_source->setCurrentIndex(-1);
    connect(m_source, &QComboBox::activated, this, &OpenStreamDialog::pickRecent);
    connect(m_recent, &RecentStreams::resolved, this, [this](const QString &masked, const QString &text) {
        m_resolvedMasked = masked;
        m_resolvedText = text;
        if (text.isEmpty() && masked.contains(QStringLiteral("***")))
            m_error->setText(tr("The credentials of this source are not kept: type the full URL."));
    });

    auto *browseButton = new QPushButton(tr("&Video File…"), this);
    connect(browseButton, &QPushButton::clicked, this, &OpenStreamDialog::browse);
    auto *row = new QHBoxLayout;
    row->addWidget(m_source, 1);
    row->addWidget(browseButton);

    m_udp = new QCheckBox(tr("RTSP over &UDP (default TCP)"), this);
    m_error = makeErrorLabel(QStringLiteral("streamError"), this);

    auto *form = new QFormLayout;
    form->addRow(tr("&Source:"), row);
    form->addRow(QString(), m_udp);
    auto *note = new QLabel(tr("A camera of this computer, an RTSP or HTTP MJPEG stream, or a video file played in "
                               "real time. Credentials in a URL are kept in the keyring and never shown."),
                            this);
    note->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &OpenStreamDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &OpenStreamDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
}

OpenStreamDialog::~OpenStreamDialog() = default;

void OpenStreamDialog::setText(const QString &text)
{
    m_source->setCurrentText(text);
}

void OpenStreamDialog::pickRecent(int index)
{
    m_error->clear();
    if (index >= 0 && index < m_recent->list().size())
        m_recent->resolve(m_source->itemText(index));
}

void OpenStreamDialog::browse()
{
    const QString file = QFileDialog::getOpenFileName(this, tr("Play a Video File"), QString(),
                                                      tr("Videos (*.mp4 *.mkv *.mov *.avi *.webm *.m4v);;All files (*)"));
    if (!file.isEmpty())
        m_source->setCurrentText(file);
}

void OpenStreamDialog::accept()
{
    QString text = m_source->currentText().trimmed();
    // A recent entry shows its credentials masked; the keyring gave the real text.
    if (text == m_resolvedMasked && !m_resolvedText.isEmpty())
        text = m_resolvedText;
    QString error;
    std::optional<StreamSpec> spec = StreamSpec::parse(text, &error);
    if (!spec) {
        m_error->setText(error);
        return;
    }
    if (text.contains(QStringLiteral("***@")) && spec->kind != StreamSpec::Kind::File) {
        m_error->setText(tr("The credentials of this source are not kept: type the full URL."));
        return;
    }
    if (m_udp->isChecked())
        spec->rtspTransport = StreamSpec::RtspTransport::Udp;
    m_chosen = spec;
    m_recent->remember(*spec);
    QDialog::accept();
}

} // namespace edgelens

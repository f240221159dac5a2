#include "widgets/devicetrustdialog.h"

#include "protocol/tlsfingerprint.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace edgelens {

namespace {

QLabel *fingerprintLabel(const QString &objectName, const QString &fingerprint, QWidget *parent)
{
    auto *label = new QLabel(DeviceTrustDialog::displayFingerprint(fingerprint), parent);
    label->setObjectName(objectName);
    label->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

DeviceTrustDialog::DeviceTrustDialog(Kind kind, const QString &deviceName, const QString &expected,
                                     const QString &offered, QWidget *parent)
    : QDialog(parent)
    , m_kind(kind)
    , m_deviceName(deviceName)
    , m_offered(offered)
{
    setObjectName(kind == Kind::FirstUse ? QStringLiteral("trustDeviceDialog") : QStringLiteral("fingerprintChangedDialog"));
    auto *icon = new QLabel(this);
    const int size = style()->pixelMetric(QStyle::PM_MessageBoxIconSize, nullptr, this);
    icon->setPixmap(style()->standardIcon(kind == Kind::FirstUse ? QStyle::SP_MessageBoxQuestion
                                                                 : QStyle::SP_MessageBoxWarning,
                                          nullptr, this)
                        .pixmap(size, size));
    auto *text = new QLabel(this);
    text->setObjectName(QStringLiteral("message"));
    text->setWordWrap(true);
    text->setTextFormat(Qt::PlainText);
    auto *fingerprints = new QFormLayout;
    auto *buttons = new QDialogButtonBox(this);

    if (kind == Kind::FirstUse) {
        setWindowTitle(tr("Trust %1?").arg(deviceName));
        text->setText(tr("%1 is new to EdgeLens and its certificate is not signed by an authority this computer "
                         "trusts. Compare its fingerprint with the one edgelens-server logged when it started "
                         "(\"TLS certificate sha256:\u2026\"). Trust it only if they match: EdgeLens remembers it "
                         "and refuses any other certificate for this device from then on.")
                          .arg(deviceName));
        fingerprints->addRow(tr("SHA-256 fingerprint:"), fingerprintLabel(QStringLiteral("fingerprint"), offered, this));
        QPushButton *trust = buttons->addButton(tr("&Trust"), QDialogButtonBox::AcceptRole);
        trust->setObjectName(QStringLiteral("trustButton"));
        QPushButton *cancel = buttons->addButton(QDialogButtonBox::Cancel);
        cancel->setObjectName(QStringLiteral("cancelButton"));
        trust->setAutoDefault(false);
        m_safeButton = cancel;
    } else {
        setWindowTitle(tr("%1 has a different certificate").arg(deviceName));
        text->setText(tr("The certificate %1 offers is not the one you trusted before. Someone on the network may be "
                         "impersonating the device, or the device got a new certificate (reinstalled, new key). "
                         "EdgeLens stopped sending it images.\n\n"
                         "If you know why it changed, forget the old fingerprint here (or run \"%2\"); the next "
                         "connection then asks whether to trust the new one.")
                          .arg(deviceName, forgetCommand(deviceName)));
        fingerprints->addRow(tr("Trusted before:"), fingerprintLabel(QStringLiteral("expectedFingerprint"), expected, this));
        fingerprints->addRow(tr("Offered now:"), fingerprintLabel(QStringLiteral("offeredFingerprint"), offered, this));
        QPushButton *forget = buttons->addButton(tr("&Forget the old fingerprint"), QDialogButtonBox::AcceptRole);
        forget->setObjectName(QStringLiteral("forgetButton"));
        QPushButton *close = buttons->addButton(QDialogButtonBox::Close);
        close->setObjectName(QStringLiteral("closeButton"));
        forget->setAutoDefault(false);
        m_safeButton = close;
    }
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *top = new QHBoxLayout;
    top->addWidget(icon, 0, Qt::AlignTop);
    auto *right = new QVBoxLayout;
    right->addWidget(text);
    right->addLayout(fingerprints);
    m_announcementNote = new QLabel(this);
    m_announcementNote->setObjectName(QStringLiteral("announcementNote"));
    m_announcementNote->setWordWrap(true);
    m_announcementNote->hide();
    right->addWidget(m_announcementNote);
    top->addLayout(right, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(buttons);
    setMinimumWidth(560);
}

DeviceTrustDialog::~DeviceTrustDialog() = default;

void DeviceTrustDialog::setAnnouncedFingerprint(const QString &announced)
{
    bool matches = false;
    const QString note = announcementNote(announced, m_offered, &matches);
    m_announcementNote->setText(note);
    m_announcementNote->setStyleSheet(matches ? QStringLiteral("color: #1e8449;") : QStringLiteral("color: #c0392b;"));
    m_announcementNote->setVisible(!note.isEmpty());
}

QString DeviceTrustDialog::announcementNote(const QString &announced, const QString &presented, bool *matches)
{
    const QString expected = TlsFingerprint::normalize(announced);
    const bool same = !expected.isEmpty() && expected == TlsFingerprint::normalize(presented);
    if (matches)
        *matches = same;
    if (expected.isEmpty())
        return {};
    return same ? tr("This is the fingerprint the device announced on the network (a hint, not a proof: network "
                     "announcements are not authenticated).")
                : tr("This is NOT the fingerprint the device announced on the network (%1). Another machine may be "
                     "answering at this address.")
                      .arg(expected);
}

void DeviceTrustDialog::showEvent(QShowEvent *event)
{
    QDialog::showEvent(event);
    // QDialogButtonBox picks the accept button as default when shown; the safe one it is.
    m_safeButton->setDefault(true);
    m_safeButton->setFocus();
}

QString DeviceTrustDialog::displayFingerprint(const QString &fingerprint)
{
    const QString normalized = TlsFingerprint::normalize(fingerprint);
    if (normalized.isEmpty())
        return fingerprint; // shown as given rather than hidden
    const QString hex = normalized.section(QLatin1Char(':'), 1);
    QStringList pairs;
    for (int i = 0; i < hex.size(); i += 2)
        pairs << hex.mid(i, 2);
    return QStringLiteral("sha256:%1\n       %2")
        .arg(pairs.mid(0, 16).join(QLatin1Char(':')), pairs.mid(16).join(QLatin1Char(':')));
}

QString DeviceTrustDialog::forgetCommand(const QString &deviceName)
{
    return QStringLiteral("edgelens-cli devices forget %1").arg(deviceName);
}

} // namespace edgelens

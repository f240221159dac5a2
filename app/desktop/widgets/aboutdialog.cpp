#include "widgets/aboutdialog.h"

#include "widgets/icons.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <QtGlobal>

#ifndef EDGELENS_VERSION
#error "EDGELENS_VERSION comes from the edgelens_warnings target"
#endif
#ifndef EDGELENS_OPENCV_VERSION
#define EDGELENS_OPENCV_VERSION "unknown"
#endif

namespace edgelens {

QString AboutDialog::versionText()
{
    return QStringLiteral("EdgeLens %1").arg(QStringLiteral(EDGELENS_VERSION));
}

QString AboutDialog::buildInfoText()
{
    // The OpenCV version is the one the build found; the embedded server links that copy.
    return QStringLiteral("Qt %1 (built with %2) \u00b7 OpenCV %3")
        .arg(QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR), QStringLiteral(EDGELENS_OPENCV_VERSION));
}

AboutDialog::AboutDialog(QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("About EdgeLens"));
    setWindowIcon(icons::appIcon());

    auto *iconLabel = new QLabel(this);
    iconLabel->setPixmap(icons::appIcon().pixmap(96, 96));
    iconLabel->setAlignment(Qt::AlignTop);

    auto *text = new QLabel(this);
    text->setObjectName(QStringLiteral("aboutText"));
    text->setWordWrap(true);
    text->setTextFormat(Qt::RichText);
    text->setTextInteractionFlags(Qt::TextBrowserInteraction);
    text->setOpenExternalLinks(true);
    text->setText(tr("<h2>%1</h2>"
                     "<p>Object detection over the network: send images to an EdgeLens server on this "
                     "computer or on an edge device and get the objects found in them.</p>"
                     "<p>%2</p>"
                     "<p><b>Licences.</b> EdgeLens uses Qt (LGPLv3) and OpenCV (Apache 2.0). The detection "
                     "models are not part of EdgeLens: each comes with its own licence (for example "
                     "NanoDet: Apache 2.0, Yolo-Fastest: YOLO licence), shown with the model in Settings "
                     "and in the model manifests.</p>")
                      .arg(versionText().toHtmlEscaped(), buildInfoText().toHtmlEscaped()));

    auto *top = new QHBoxLayout;
    top->addWidget(iconLabel);
    top->addWidget(text, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(buttons);
    setMinimumWidth(460);
}

AboutDialog::~AboutDialog() = default;

} // namespace edgelens

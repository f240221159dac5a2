#pragma once

#include <QDialog>

namespace edgelens {

// Help > About: version, the Qt and OpenCV versions in use, and licence notes.
class AboutDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AboutDialog)

public:
    explicit AboutDialog(QWidget *parent = nullptr);
    ~AboutDialog() override;

    static QString versionText();  // "EdgeLens 0.1.0"
    static QString buildInfoText(); // "Qt 6.4.2 (built with 6.4.2) · OpenCV 4.6.0"
};

} // namespace edgelens

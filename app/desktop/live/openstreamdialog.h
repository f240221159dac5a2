#pragma once

#include "live/streamspec.h"

#include <QDialog>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;

namespace edgelens {

class RecentStreams;

// File > Open Stream…: a camera of this computer, an RTSP or HTTP MJPEG URL, or a video file
// (Browse…), with the recent sources offered (masked; their credentials come from the keyring)
// and RTSP over UDP as an option. accept() only with a source that parses.
class OpenStreamDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenStreamDialog)

public:
    OpenStreamDialog(RecentStreams *recent, QWidget *parent = nullptr);
    ~OpenStreamDialog() override;

    std::optional<StreamSpec> chosen() const { return m_chosen; }
    void setText(const QString &text); // tests, --live

    void accept() override;

private:
    void browse();
    void pickRecent(int index);

    RecentStreams *m_recent;
    QComboBox *m_source = nullptr;
    QCheckBox *m_udp = nullptr;
    QLabel *m_error = nullptr;
    std::optional<StreamSpec> m_chosen;
    QString m_resolvedMasked; // a recent entry whose full text came from the keyring
    QString m_resolvedText;
};

} // namespace edgelens

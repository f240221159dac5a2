#pragma once

#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

namespace edgelens {

// What a person points the live view at, parsed once: a camera on this computer (V4L2:
// /dev/videoN, or just N), an RTSP URL (TCP by default, UDP as an option), an HTTP(S) URL
// serving MJPEG (what cheap IP cameras do), or a video file played in real time. Every part
// of EdgeLens that shows or stores a source uses display(): credentials in the URL (user
// information, and query values such as ?user=..&pwd=..) are masked, so they never reach a
// log, a window title or a file; the full text stays in this object (and the keyring).
struct StreamSpec
{
    enum class Kind { Camera, Rtsp, Http, File };
    enum class RtspTransport { Tcp, Udp };

    Kind kind = Kind::File;
    QString text;       // as given (may hold credentials: never print it)
    QUrl url;           // Rtsp, Http
    int cameraIndex = -1; // Camera
    QString path;       // File (absolute)
    RtspTransport rtspTransport = RtspTransport::Tcp;
    bool loop = true;   // File: start again at the end, like a camera that never stops

    // nullopt with *error when the text is none of the four kinds (or the file is missing).
    static std::optional<StreamSpec> parse(const QString &text, QString *error);

    QString display() const;                    // masked: safe for logs, titles and files
    bool hasCredentials() const;                // display() differs from text
    bool isReconnectable() const { return kind != Kind::File; }
    static QString kindName(Kind kind);         // "camera", "rtsp", "http", "file"
    // Masks credentials in any text that may be a URL (error messages quoting it, too).
    static QString maskCredentials(const QString &text);

    // The V4L2 video capture devices of this computer (/dev/video*), with their names.
    struct Camera
    {
        int index = -1;
        QString device; // "/dev/video0"
        QString name;   // the driver's card name, when it can be read
    };
    static QList<Camera> listCameras();
};

} // namespace edgelens

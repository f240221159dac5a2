#include "streamspec.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUrlQuery>

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace edgelens {

namespace {

const QString kMask = QStringLiteral("***");

// Query keys cheap cameras take credentials in (…/video.cgi?user=admin&pwd=…).
bool isSecretKey(const QString &key)
{
    static const QRegularExpression secret(
        QStringLiteral("^(user(name)?|login|pass(word|wd)?|pwd|token|auth|key|api_?key|secret|sig(nature)?|"
                       "access_token|credentials?)$"),
        QRegularExpression::CaseInsensitiveOption);
    return secret.match(key).hasMatch();
}

QString maskUrl(const QUrl &url)
{
    QUrl masked = url;
    if (!masked.userInfo().isEmpty())
        masked.setUserInfo(kMask);
    if (masked.hasQuery()) {
        QUrlQuery query(masked);
        const auto items = query.queryItems(QUrl::FullyEncoded);
        QUrlQuery out;
        for (const auto &item : items)
            out.addQueryItem(item.first, isSecretKey(item.first) ? kMask : item.second);
        masked.setQuery(out);
    }
    return masked.toString(QUrl::FullyEncoded).replace(QStringLiteral("%2A%2A%2A"), kMask);
}

std::optional<int> cameraIndexOf(const QString &text)
{
    static const QRegularExpression device(QStringLiteral("^(?:/dev/video)?(\\d{1,3})$"));
    const QRegularExpressionMatch match = device.match(text);
    if (!match.hasMatch())
        return std::nullopt;
    return match.captured(1).toInt();
}

QString v4l2CardName(const QString &device, bool *isCapture)
{
    *isCapture = false;
    const int fd = ::open(QFile::encodeName(device).constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return {};
    v4l2_capability caps{};
    QString name;
    if (::ioctl(fd, VIDIOC_QUERYCAP, &caps) == 0) {
        name = QString::fromUtf8(reinterpret_cast<const char *>(caps.card)).trimmed();
        const quint32 flags = (caps.capabilities & V4L2_CAP_DEVICE_CAPS) ? caps.device_caps : caps.capabilities;
        *isCapture = (flags & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) != 0;
    }
    ::close(fd);
    return name;
}

} // namespace

std::optional<StreamSpec> StreamSpec::parse(const QString &input, QString *error)
{
    const QString text = input.trimmed();
    StreamSpec spec;
    spec.text = text;
    if (text.isEmpty()) {
        *error = QStringLiteral("no source given: a camera (/dev/video0), an rtsp:// or http:// URL, or a video file");
        return std::nullopt;
    }
    if (const std::optional<int> index = cameraIndexOf(text)) {
        spec.kind = Kind::Camera;
        spec.cameraIndex = *index;
        return spec;
    }
    const QUrl url(text, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (url.isValid() && (scheme == QLatin1String("rtsp") || scheme == QLatin1String("rtsps"))) {
        if (url.host().isEmpty()) {
            *error = QStringLiteral("%1: no host in the URL").arg(maskCredentials(text));
            return std::nullopt;
        }
        spec.kind = Kind::Rtsp;
        spec.url = url;
        return spec;
    }
    if (url.isValid() && (scheme == QLatin1String("http") || scheme == QLatin1String("https"))) {
        if (url.host().isEmpty()) {
            *error = QStringLiteral("%1: no host in the URL").arg(maskCredentials(text));
            return std::nullopt;
        }
        spec.kind = Kind::Http;
        spec.url = url;
        return spec;
    }
    const QString path = scheme == QLatin1String("file") ? url.toLocalFile() : text;
    if (!scheme.isEmpty() && scheme != QLatin1String("file") && scheme.size() > 1) {
        *error = QStringLiteral("%1: %2:// is not a stream EdgeLens reads (rtsp://, rtsps://, http://, https://)")
                     .arg(maskCredentials(text), scheme);
        return std::nullopt;
    }
    const QFileInfo info(path);
    if (!info.isFile() || !info.isReadable()) {
        *error = QStringLiteral("%1: no such video file, camera or stream URL").arg(QDir::toNativeSeparators(path));
        return std::nullopt;
    }
    spec.kind = Kind::File;
    spec.path = info.absoluteFilePath();
    return spec;
}

QString StreamSpec::display() const
{
    switch (kind) {
    case Kind::Camera:
        return QStringLiteral("/dev/video%1").arg(cameraIndex);
    case Kind::Rtsp:
    case Kind::Http:
        return maskUrl(url);
    case Kind::File:
        return QDir::toNativeSeparators(path);
    }
    return {};
}

bool StreamSpec::hasCredentials() const
{
    return (kind == Kind::Rtsp || kind == Kind::Http) && maskUrl(url) != url.toString(QUrl::FullyEncoded);
}

QString StreamSpec::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Camera: return QStringLiteral("camera");
    case Kind::Rtsp: return QStringLiteral("rtsp");
    case Kind::Http: return QStringLiteral("http");
    case Kind::File: return QStringLiteral("file");
    }
    return {};
}

QString StreamSpec::maskCredentials(const QString &text)
{
    // Every URL-looking word in the text, wherever it appears (OpenCV and FFmpeg quote them).
    static const QRegularExpression urls(QStringLiteral("[A-Za-z][A-Za-z0-9+.-]*://[^\\s'\"<>]+"));
    QString out;
    qsizetype last = 0;
    QRegularExpressionMatchIterator it = urls.globalMatch(text);
    while (it.hasNext()) {
        const QRegularExpressionMatch match = it.next();
        out += text.mid(last, match.capturedStart() - last);
        const QUrl url(match.captured(), QUrl::TolerantMode);
        out += url.isValid() ? maskUrl(url) : QStringLiteral("<url>");
        last = match.capturedEnd();
    }
    out += text.mid(last);
    return out;
}

QList<StreamSpec::Camera> StreamSpec::listCameras()
{
    QList<Camera> cameras;
    const QDir dev(QStringLiteral("/dev"));
    const QStringList names = dev.entryList({QStringLiteral("video*")}, QDir::System | QDir::Files, QDir::Name);
    for (const QString &name : names) {
        bool ok = false;
        const int index = name.mid(5).toInt(&ok);
        if (!ok)
            continue;
        const QString device = dev.filePath(name);
        bool isCapture = false;
        const QString card = v4l2CardName(device, &isCapture);
        // A camera shows up as several nodes (metadata, M2M); only capture nodes give frames.
        if (!isCapture)
            continue;
        cameras.append({index, device, card});
    }
    std::sort(cameras.begin(), cameras.end(), [](const Camera &a, const Camera &b) { return a.index < b.index; });
    return cameras;
}

} // namespace edgelens

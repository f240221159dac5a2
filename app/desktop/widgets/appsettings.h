#pragma once

// The desktop app's user settings: one plain struct, persisted with QSettings so the app
// restores the last target, thresholds and folders on start.

#include "client/detectionclient.h"

#include <QString>
#include <QtGlobal>

class QSettings;

namespace edgelens {

struct AppSettings
{
    enum class Target { Embedded, Remote };
    enum class Protocol { Auto, V2, Legacy };

    Target target = Target::Embedded;
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6000;
    Protocol protocol = Protocol::Auto;
    int timeoutMs = 30000;
    int maxInFlight = 4;
    QString model;            // embedded server model name; empty = catalog default
    double confidence = -1;   // < 0 = the model's recommended threshold (its manifest)
    double nmsIou = -1;       // < 0 = model default
    QString outputDir;        // empty = "<first image folder>/inferenced"
    int jpegQuality = 90;
    bool jsonSidecars = true;
    QString lastFolder;       // last folder used by Add Folder / Add Images

    static AppSettings load();          // QSettings("EdgeLens", "EdgeLens") by default
    void save() const;
    static QString validateHost(const QString &host); // empty when valid IPv4, IPv6 or host name, else reason

    // Added for tests and alternative stores; load()/save() use these with the default QSettings.
    // Out-of-range or unparsable stored values fall back to the defaults above.
    static AppSettings load(QSettings &settings);
    void save(QSettings &settings) const;
    // Limits shared by the dialog and load().
    static constexpr int kMinTimeoutMs = 100;
    static constexpr int kMaxTimeoutMs = 600000;
    static constexpr int kMaxInFlightLimit = 64;

    // host as QTcpSocket::connectToHost wants it: trimmed, IPv6 brackets removed.
    QString connectHost() const;
    // The stored protocol choice as DetectionClient takes it.
    DetectionClient::Protocol clientProtocol() const;

    static QString targetName(Target target);       // "embedded" | "remote"
    static QString protocolName(Protocol protocol); // "auto" | "v2" | "legacy"

    friend bool operator==(const AppSettings &a, const AppSettings &b);
    friend bool operator!=(const AppSettings &a, const AppSettings &b) { return !(a == b); }
};

} // namespace edgelens

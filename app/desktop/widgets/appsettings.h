#pragma once

// The desktop app's user settings: one plain struct, persisted with QSettings so the app
// restores the last target, devices, thresholds and folders on start. The access token is
// not written here: TokenStore keeps it in the desktop keyring.

#include "client/detectionclient.h"

#include <QList>
#include <QString>
#include <QtGlobal>

#include <optional>

class QSettings;

namespace edgelens {

struct AppSettings
{
    enum class Target { Embedded, Remote };
    enum class Protocol { Auto, V2, Legacy, DeepStack };

    // One device of the remote target (a pool when there are several).
    struct Device
    {
        QString host = QStringLiteral("127.0.0.1");
        quint16 port = 6000;
        Protocol protocol = Protocol::Auto;
        bool tls = false;     // "Encrypted connection (TLS)"
        bool enabled = true;  // disabled devices stay in the list but get no work

        QString name() const;        // "host:port", "[v6addr]:port": how the app names the device
        QString connectHost() const; // trimmed, IPv6 brackets removed
        QString validate() const;    // empty when usable, else the reason
        DeviceSpec toSpec() const;   // as the client takes it
        friend bool operator==(const Device &a, const Device &b);
        friend bool operator!=(const Device &a, const Device &b) { return !(a == b); }
    };

    Target target = Target::Embedded;
    // The single-device form (command line, tests, settings written before the device list):
    // used when `devices` is empty, and kept equal to the first device otherwise.
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6000;
    Protocol protocol = Protocol::Auto;
    QList<Device> devices;      // the remote target's devices; empty: the one in host/port/protocol
    bool embeddedJoins = false; // remote target: the embedded server works as one more device
    // v2 access token for the devices. TokenStore keeps it (keyring), save() does not; nullopt:
    // not read from the store yet, so whoever applies these settings keeps the token it has.
    std::optional<QString> token;
    int timeoutMs = 30000;
    int maxInFlight = 4;
    QString model;            // embedded server model name; empty = catalog default
    double confidence = -1;   // < 0 = the model's recommended threshold (its manifest)
    double nmsIou = -1;       // < 0 = model default
    QString outputDir;        // empty = "<first image folder>/inferenced"
    int jpegQuality = 90;
    bool jsonSidecars = true;
    bool sendOriginalFiles = false; // v2: never send reduced copies sized for the model
    int resultMaxSide = 2048;       // results drawn by the app fit within this; 0: original size
    QString lastFolder;       // last folder used by Add Folder / Add Images

    static AppSettings load();          // QSettings("EdgeLens", "EdgeLens") by default
    void save() const;
    static QString validateHost(const QString &host); // empty when valid IPv4, IPv6 or host name, else reason
    static QString validatePort(const QString &text); // empty when 1-65535, else reason

    // Added for tests and alternative stores; load()/save() use these with the default QSettings.
    // Out-of-range or unparsable stored values fall back to the defaults above.
    static AppSettings load(QSettings &settings);
    void save(QSettings &settings) const;
    // Limits shared by the dialog and load().
    static constexpr int kMinTimeoutMs = 100;
    static constexpr int kMaxTimeoutMs = 600000;
    static constexpr int kMaxInFlightLimit = 64;

    // The devices the remote target uses: `devices`, or the one in host/port/protocol.
    QList<Device> remoteDevices() const;
    // Replaces the device list and mirrors its first entry into host/port/protocol.
    void setDevices(const QList<Device> &list);
    // Empty when the list can be used as the remote target, else the reason (no device, none
    // enabled, one listed twice, an invalid entry).
    static QString validateDevices(const QList<Device> &list, bool embeddedJoins);

    // host as QTcpSocket::connectToHost wants it: trimmed, IPv6 brackets removed.
    QString connectHost() const;
    // The stored protocol choice as DetectionClient takes it.
    DetectionClient::Protocol clientProtocol() const;

    static QString targetName(Target target);       // "embedded" | "remote"
    static QString protocolName(Protocol protocol); // "auto" | "v2" | "legacy" | "deepstack"

    friend bool operator==(const AppSettings &a, const AppSettings &b);
    friend bool operator!=(const AppSettings &a, const AppSettings &b) { return !(a == b); }
};

} // namespace edgelens

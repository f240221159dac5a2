#include "unixsignalwatcher.h"

#include <QLoggingCategory>
#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcSignals, "edgelens.server.signals")

namespace edgelens {

namespace {

int g_fds[2] = {-1, -1};

extern "C" void forwardSignal(int signalNumber)
{
    const int saved = errno;
    const unsigned char byte = static_cast<unsigned char>(signalNumber);
    // A full pipe only loses a duplicate notification; nothing else can be done safely here.
    [[maybe_unused]] const ssize_t written = ::write(g_fds[1], &byte, 1);
    errno = saved;
}

} // namespace

UnixSignalWatcher::UnixSignalWatcher(const QList<int> &signalNumbers, QObject *parent)
    : QObject(parent)
    , m_signalNumbers(signalNumbers)
{
    if (g_fds[0] != -1) {
        qCWarning(lcSignals) << "only one UnixSignalWatcher per process; this one stays inactive";
        m_signalNumbers.clear();
        return;
    }
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_fds) != 0) {
        qCWarning(lcSignals) << "socketpair failed:" << std::strerror(errno);
        g_fds[0] = g_fds[1] = -1;
        m_signalNumbers.clear();
        return;
    }
    ::fcntl(g_fds[1], F_SETFL, ::fcntl(g_fds[1], F_GETFL) | O_NONBLOCK);
    m_notifier = new QSocketNotifier(g_fds[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UnixSignalWatcher::readSignals);

    for (int number : std::as_const(m_signalNumbers)) {
        struct sigaction action;
        std::memset(&action, 0, sizeof(action));
        action.sa_handler = forwardSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        if (::sigaction(number, &action, nullptr) != 0)
            qCWarning(lcSignals) << "cannot handle signal" << number << ":" << std::strerror(errno);
    }
}

UnixSignalWatcher::~UnixSignalWatcher()
{
    for (int number : std::as_const(m_signalNumbers))
        ::signal(number, SIG_DFL);
    if (m_notifier) {
        delete m_notifier;
        ::close(g_fds[0]);
        ::close(g_fds[1]);
        g_fds[0] = g_fds[1] = -1;
    }
}

void UnixSignalWatcher::readSignals()
{
    unsigned char buffer[16];
    const ssize_t n = ::read(g_fds[0], buffer, sizeof(buffer));
    for (ssize_t i = 0; i < n; ++i)
        emit signalReceived(int(buffer[i]));
}

} // namespace edgelens

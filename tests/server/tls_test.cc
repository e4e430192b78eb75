// The TLS listener: a self-signed certificate generated here, TLS 1.2+ only,
// and a non-loopback address accepted once TLS is configured.
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace warden::server::testing {
namespace {

class TlsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    cert_ = (root_ / "cert.pem").string();
    key_ = (root_ / "key.pem").string();
    ASSERT_TRUE(WriteSelfSignedCert(cert_, key_));
    options_.tls_cert = cert_;
    options_.tls_key = key_;
  }
  std::string cert_, key_;
};

TEST_F(TlsTest, ServesHttpsWithTls12OrLater) {
  StartServer();
  EXPECT_TRUE(server_->BaseUrl().starts_with("https://127.0.0.1:")) << server_->BaseUrl();
  ClientOptions tls;
  tls.tls = true;
  auto h = Send(Addr(), "GET", "/healthz", "", {}, tls);
  EXPECT_EQ(h.status, 200u) << h.error;
  auto agents = Send(Addr(), "GET", "/v1/agents", "", Auth(), tls);
  EXPECT_EQ(agents.status, 200u) << agents.error << agents.body;

  EXPECT_GE(TlsHandshakeVersion(Addr(), 0), TLS1_2_VERSION);
  EXPECT_LT(TlsHandshakeVersion(Addr(), TLS1_1_VERSION), 0) << "TLS 1.1 must be refused";

  // Plain HTTP against the TLS port gets no HTTP answer.
  auto plain = Send(Addr(), "GET", "/healthz");
  EXPECT_EQ(plain.status, 0u);
}

TEST_F(TlsTest, NonLoopbackAddressIsAllowedWithTls) {
  options_.listen = "0.0.0.0:0";
  StartServer();
  ClientOptions tls;
  tls.tls = true;
  auto port = Addr().substr(Addr().rfind(':') + 1);
  EXPECT_EQ(Send("127.0.0.1:" + port, "GET", "/readyz", "", {}, tls).status, 200u);
}

TEST_F(TlsTest, MismatchedOrMissingKeyIsRefused) {
  std::string other_cert = (root_ / "other.pem").string();
  std::string other_key = (root_ / "other-key.pem").string();
  ASSERT_TRUE(WriteSelfSignedCert(other_cert, other_key));
  options_.tls_key = other_key;
  auto s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().field(), "tls_key");

  options_.tls_key = (root_ / "missing.pem").string();
  s = Server::Start(options_, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().field(), "tls_key");
}

}  // namespace
}  // namespace warden::server::testing

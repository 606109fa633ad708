// The request as handlers see it (http/wire.h): repeated slashes in the path collapse to one,
// as the Salesforce CLI's `//services/data` needs (docs/behaviour.md §4).
#include "http/wire.h"

#include <gtest/gtest.h>

#include <string>

namespace latchkey::http {
namespace {

std::string collapsed(std::string path) {
  collapse_slashes(path);
  return path;
}

Request filled(const std::string& target) {
  boost::beast::http::request<boost::beast::http::string_body> message{
      boost::beast::http::verb::get, target, 11};
  message.set(boost::beast::http::field::host, "127.0.0.1");
  Request out;
  fill_request(message, out);
  return out;
}

TEST(CollapseSlashes, RunsOfSlashesBecomeOne) {
  EXPECT_EQ(collapsed("//services/data"), "/services/data");
  EXPECT_EQ(collapsed("/services///oauth2//userinfo"), "/services/oauth2/userinfo");
  EXPECT_EQ(collapsed("/services/data/v62.0//"), "/services/data/v62.0/");
  EXPECT_EQ(collapsed("////"), "/");
}

TEST(CollapseSlashes, PathsWithoutRepeatsAreKept) {
  EXPECT_EQ(collapsed("/services/data"), "/services/data");
  EXPECT_EQ(collapsed("/"), "/");
  EXPECT_EQ(collapsed(""), "");
  EXPECT_EQ(collapsed("*"), "*");
}

TEST(FillRequest, ThePathHasSingleSlashesAndTheTargetAndQueryStayAsReceived) {
  Request r = filled("//services//data?q=a//b");
  EXPECT_EQ(r.path, "/services/data");
  EXPECT_EQ(r.query, "q=a//b");
  EXPECT_EQ(r.target, "//services//data?q=a//b");
}

}  // namespace
}  // namespace latchkey::http

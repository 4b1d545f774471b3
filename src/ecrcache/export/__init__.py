"""Export the desired state in other engines' formats: ``cloudformation`` (a CloudFormation
template for StackSets), with ``cfn_mapping`` the table of which API request parameter apply
sends becomes which CloudFormation property. Pure: no boto3, no terminal."""
